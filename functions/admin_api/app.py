"""Admin control plane API: catalog, versions and promotion, change requests, deployment controls,
lineage and impact, audit verification and evidence bundles. Every write is audited in the domain.

The routes are Powertools Routers by area (`routes/`), included into the one resolver."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.api import bootstrap, logger, resolver

try:  # a checkout of the repo: tests, infra/local, the OpenAPI generator
    from functions.admin_api.routes import ROUTERS
except ModuleNotFoundError:  # the deployed asset: this directory is the Lambda task root
    from routes import ROUTERS  # type: ignore[no-redef]

cfg = bootstrap()
app = resolver(text_media=("text/csv",))  # the vendor register's CSV import
for router in ROUTERS:
    app.include_router(router)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
