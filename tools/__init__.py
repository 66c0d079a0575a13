"""Project tooling that never ships in the Lambda layer: doc generators and operator CLIs."""
