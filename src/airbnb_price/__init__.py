"""airbnb-price: Inside Airbnb listings -> price model -> serverless prediction endpoint."""

__version__ = "0.1.0"
