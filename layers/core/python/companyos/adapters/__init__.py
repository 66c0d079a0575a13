"""Adapters: the only code that talks to AWS — pynamodb models and tenant-scoped repositories, the
audit chain, the lake engines, runtime settings and the one `AwsClients` every use case is given."""
