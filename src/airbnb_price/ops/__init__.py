"""AWS, real and local: deploys with the Serverless Framework, moto's S3 server and the HTTP
stand-in for API Gateway around the Lambda handler. Notebook 05 and the CLI use it; it never
imports the runner or the CLI above it."""
