"""Powertools Idempotency over the stage's idempotency table (the layout of `models.IdempotencyItem`:
key `id`, TTL `expiration`) — the one mechanism for "a retried call does its work once".

Handlers decorate their work with `@idempotent_function(data_keyword_argument=..., config=config(...),
persistence_store=persistence())`; the key is a hash of the payload fields the config selects, so a
Step Functions retry of a task or a sender's redelivery returns the first answer without redoing it.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from companyos.adapters.config import settings

__all__ = ["config", "idempotent_function", "persistence"]


def persistence() -> DynamoDBPersistenceLayer:
    """A persistence layer over the idempotency table of this stage (TABLE_IDEMPOTENCY). One per
    decorated function: Powertools prefixes its keys with the function's name, so a shared instance
    would race when infra/local runs several handlers in one process."""
    return DynamoDBPersistenceLayer(table_name=settings().tables.idempotency)


def config(
    key: str | None = None, *, expires_after_s: int = 3600, in_memory: bool = False
) -> IdempotencyConfig:
    """`key`: a JMESPath over the payload naming what makes two calls "the same" (None: all of it).
    Expired records are removed by the table's TTL; `in_memory` adds a per-process LRU in front."""
    return IdempotencyConfig(
        event_key_jmespath=key or "",
        expires_after_seconds=expires_after_s,
        use_local_cache=in_memory,
        raise_on_no_idempotency_key=key is not None,
    )
