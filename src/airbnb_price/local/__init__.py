"""Local and operations tooling, the top layer: the notebook runner and its reports, the
run folders notebooks read and write, moto's S3, the HTTP stand-in for API Gateway, deploys
and the command line. Imports every other layer; nothing imports it."""
