"""Builds the compiled engine's tree evaluator (src/airbnb_price/serve/_trees.c) with the
package; everything else is declared in pyproject.toml. The library is plain C loaded with
ctypes (no Python C API), portable flags only (no -march=native): it must load on Lambda."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("airbnb_price.serve._trees", ["src/airbnb_price/serve/_trees.c"],
                             extra_compile_args=["-O3", "-std=c99", "-fno-math-errno"])])
