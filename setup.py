"""Builds the package's C libraries with it: the compiled engine's tree evaluator
(src/airbnb_price/serve/_trees.c) and the text scans its features share with training
(src/airbnb_price/core/_text.c); everything else is declared in pyproject.toml. Plain C loaded
with ctypes (no Python C API, `airbnb_price.core.native`), portable flags only (no
-march=native): they must load on Lambda."""

from setuptools import Extension, setup

FLAGS = ["-O3", "-std=c99", "-fno-math-errno"]

setup(ext_modules=[
    Extension("airbnb_price.serve._trees", ["src/airbnb_price/serve/_trees.c"],
              extra_compile_args=FLAGS),
    Extension("airbnb_price.core._text", ["src/airbnb_price/core/_text.c"],
              extra_compile_args=FLAGS),
])
