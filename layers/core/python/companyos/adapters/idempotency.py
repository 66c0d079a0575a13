"""Powertools Idempotency over the stage's idempotency table (the layout of `models.IdempotencyItem`:
key `id`, TTL `expiration`) — the one mechanism for "a retried call does its work once".

Handlers decorate their work with `@idempotent_function(data_keyword_argument=..., config=config(...),
persistence_store=persistence())`; the key is a hash of the payload fields the config selects, so a
Step Functions retry of a task or a sender's redelivery returns the first answer without redoing it.
"""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    IdempotentHookFunction,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from companyos.adapters.config import settings

__all__ = ["AlreadyInProgress", "config", "idempotent_function", "persistence"]

AlreadyInProgress = IdempotencyAlreadyInProgressError  # the same call is running right now elsewhere


@cache
def persistence(purpose: str = "default") -> DynamoDBPersistenceLayer:
    """The idempotency table of this stage (TABLE_IDEMPOTENCY), one layer per `purpose` per process:
    Powertools configures a layer once, from the first decorated function's config (its key and
    expiry), so idempotent functions with different keys in one process need layers of their own."""
    return DynamoDBPersistenceLayer(table_name=settings().tables.idempotency)


def config(
    key: str | None = None,
    *,
    expires_after_s: int = 3600,
    in_memory: bool = False,
    on_replay: IdempotentHookFunction | None = None,
) -> IdempotencyConfig:
    """`key`: a JMESPath over the payload naming what makes two calls "the same" (None: all of it).
    Expired records are removed by the table's TTL; `in_memory` adds a per-process LRU in front.
    `on_replay(response, idempotent_data)`: what a replay answers instead of the first answer as stored."""
    return IdempotencyConfig(
        event_key_jmespath=key or "",
        expires_after_seconds=expires_after_s,
        use_local_cache=in_memory,
        raise_on_no_idempotency_key=key is not None,
        response_hook=on_replay,
    )
