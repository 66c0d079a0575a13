"""AWS target of CompanyOS: CDK L3 constructs by bounded context, composed per stage in `stage.py`."""
