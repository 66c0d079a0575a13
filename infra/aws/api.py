"""API: Cognito user pool (Hosted UI, PKCE code flow) and the REST API whose routes come from topology.

The function with `api_routes` sits behind `/api/{proxy+}` with the Cognito authorizer (its resolver does
the routing). Each `api_prefixes` entry gets `<prefix>` and `<prefix>/{proxy+}` (ANY, Cognito) to its
function; API Gateway prefers the more specific resource, so the longest prefix wins as in
`topology.route_owner`. Intermediate resources a nested prefix creates (`/api/platform/executive` between
`/api/platform` and `/api/platform/executive/exports`) are routed to their `route_owner` too, because API
Gateway does not fall back to a parent's `{proxy+}`. `public_routes` (signed webhooks) get their own
resources without an authorizer, because the function verifies the sender's signature.

Binary media types are `*/*`: API Gateway then passes every request body to Lambda as bytes (base64),
which is the only way gzip uploads survive (OPA sends `Content-Type: application/json` with
`Content-Encoding: gzip`, so a list of gzip content types would not match), and the board pack's PDF
response (base64 from Lambda) reaches the client as bytes whatever its `Accept`. JSON keeps working: the
Powertools resolvers decode base64 bodies (`decoded_body`), the ingest handler decodes `isBase64Encoded`
itself, and JSON responses (not base64-flagged) pass through unchanged. The web app reaches the API
through CloudFront at same-origin `/api`, so no CORS is configured.

No `minimumCompressionSize`: it would also make API Gateway inflate gzip request bodies before ingest
verifies the signatures over them. The handlers gzip their answers instead
(`companyos.api.compress_response`, docs/decisions.md "Compression").
"""

from __future__ import annotations

import re

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from companyos.topology import FUNCTIONS, route_owner
from constructs import Construct

from infra.aws.config import StageConfig
from infra.aws.log_key import logs_key

PROXY_PATH = "/api/{proxy+}"
BINARY_MEDIA_TYPES = ["*/*"]


# (construct id, API Gateway's response type, our code) — the status stays API Gateway's own
GATEWAY_REFUSALS = (
    ("Unauthorized", apigw.ResponseType.UNAUTHORIZED, "unauthenticated"),
    ("AccessDenied", apigw.ResponseType.ACCESS_DENIED, "forbidden"),
    ("TooLarge", apigw.ResponseType.REQUEST_TOO_LARGE, "payload_too_large"),
    ("Throttled", apigw.ResponseType.THROTTLED, "throttled"),
    ("Default4xx", apigw.ResponseType.DEFAULT_4_XX, "bad_request"),
    ("Default5xx", apigw.ResponseType.DEFAULT_5_XX, "gateway_error"),
)


def _path_parameters(path: str) -> dict[str, bool]:
    return {f"method.request.path.{name.rstrip('+')}": True for name in re.findall(r"{([^}]+)}", path)}


class Api(Construct):
    def __init__(
        self, scope: Construct, id: str, *, config: StageConfig, functions: dict[str, lambda_.Function]
    ) -> None:
        super().__init__(scope, id)
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        self.user_pool = cognito.UserPool(
            self,
            "Users",
            user_pool_name=f"{config.prefix}-users",
            self_sign_up_enabled=False,  # tenant admins invite users
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Tenant memberships {tenant: role} as a JSON string claim (`custom:memberships`), set by
            # tenant admins; the read API's Principal.from_claims reads exactly this claim.
            custom_attributes={"memberships": cognito.StringAttribute(mutable=True, max_len=2048)},
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=config.retain_data,
            removal_policy=removal,
        )
        self.domain = self.user_pool.add_domain(
            "HostedUi",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=f"{config.prefix}-auth"),
        )
        self.rest_api = self._rest_api(config, removal)
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "Authorizer", cognito_user_pools=[self.user_pool], results_cache_ttl=Duration.minutes(5)
        )
        # Path parameters are required; bodies are validated by the handlers' pydantic models (webhook
        # bodies are third-party payloads checked after their signature), so no API Gateway models.
        self.validator = self.rest_api.add_request_validator(
            "Validator", validate_request_parameters=True, validate_request_body=True
        )
        self._routes(functions)
        self._refusals()

    def _refusals(self) -> None:
        """The answers API Gateway gives itself (the authorizer's 401/403, a body over its limit,
        throttling, any other 4xx/5xx before a function) in the one error schema of the specs,
        `{code, message}` (docs/cockpit-api.md), instead of its `{"message": ...}`."""
        for name, kind, code in GATEWAY_REFUSALS:
            self.rest_api.add_gateway_response(
                name,
                type=kind,
                templates={
                    "application/json": f'{{"code": "{code}", "message": $context.error.messageString}}'
                },
            )

    def _rest_api(self, config: StageConfig, removal: RemovalPolicy) -> apigw.RestApi:
        """The regional REST API: JSON access logs (KMS-encrypted), error execution logs, X-Ray, throttle."""
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=config.log_retention,
            encryption_key=logs_key(self),
            removal_policy=removal,
        )
        return apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{config.prefix}-api",
            description="CompanyOS cockpit API (served to the web app through CloudFront at /api)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            binary_media_types=BINARY_MEDIA_TYPES,
            cloud_watch_role=True,  # execution logs need the account-level API Gateway logging role
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=config.name,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request bodies carry tenant data
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=config.rate_limit,
                throttling_burst_limit=config.burst_limit,
            ),
        )

    def _routes(self, functions: dict[str, lambda_.Function]) -> None:
        owners = [spec.name for spec in FUNCTIONS if spec.api_routes]
        if len(owners) != 1:
            raise ValueError(f"exactly one function may own {PROXY_PATH}, got {owners}")
        for spec in FUNCTIONS:
            integration = apigw.LambdaIntegration(functions[spec.name])
            for route in spec.public_routes:
                method, path = route.split(" ", 1)
                self.rest_api.root.resource_for_path(path).add_method(
                    method,
                    integration,
                    authorization_type=apigw.AuthorizationType.NONE,
                    request_validator=self.validator,
                    request_parameters=_path_parameters(path),
                )
        self._authorized(PROXY_PATH, functions[owners[0]])
        prefixes = sorted({p for spec in FUNCTIONS for p in spec.api_prefixes})
        for prefix in prefixes:
            owner = functions[route_owner(prefix)]
            self._authorized(prefix, owner)
            self._authorized(f"{prefix}/{{proxy+}}", owner)
        # Resources created between a prefix and a longer, nested one have no method of their own.
        for prefix in prefixes:
            parts = prefix.strip("/").split("/")
            for n in range(2, len(parts)):
                between = "/" + "/".join(parts[:n])
                if between in prefixes or not any(between.startswith(p + "/") for p in prefixes):
                    continue
                owner = functions[route_owner(between)]
                if not self.rest_api.root.resource_for_path(between).node.try_find_child("ANY"):
                    self._authorized(between, owner)
                    self._authorized(f"{between}/{{proxy+}}", owner)

    def _authorized(self, path: str, fn: lambda_.Function) -> None:
        self.rest_api.root.resource_for_path(path).add_method(
            "ANY",
            apigw.LambdaIntegration(fn),
            authorizer=self.authorizer,
            authorization_type=apigw.AuthorizationType.COGNITO,
            request_validator=self.validator,
            request_parameters=_path_parameters(path),
        )

    def add_web_client(self, callback_url: str) -> cognito.UserPoolClient:
        """The cockpit's public client: authorization-code flow with PKCE (no secret) via the Hosted UI."""
        return self.user_pool.add_client(
            "WebClient",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[callback_url],
                logout_urls=[callback_url],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            # Users may read their memberships claim but never write it (only admins, server-side):
            # a client that could write custom:memberships would let a user grant itself any role.
            read_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, email_verified=True, fullname=True)
            .with_custom_attributes("memberships"),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(fullname=True),
            enable_token_revocation=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),
        )
