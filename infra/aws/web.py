"""Web: the static cockpit on a private S3 bucket behind CloudFront (OAC); the API at same-origin /api."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.aws.api import Api
from infra.aws.buckets import secure_bucket
from infra.aws.config import StageConfig
from infra.aws.functions import ROOT
from infra.aws.log_key import logs_key


def _security_headers(scope: Construct, auth_base_url: str) -> cloudfront.ResponseHeadersPolicy:
    csp = "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            f"connect-src 'self' {auth_base_url}",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "object-src 'none'",
        )
    )
    return cloudfront.ResponseHeadersPolicy(
        scope,
        "SecurityHeaders",
        comment="CompanyOS cockpit security headers",
        security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
            content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                content_security_policy=csp, override=True
            ),
            strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                access_control_max_age=Duration.days(365),
                include_subdomains=True,
                preload=True,
                override=True,
            ),
            content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            frame_options=cloudfront.ResponseHeadersFrameOptions(
                frame_option=cloudfront.HeadersFrameOption.DENY, override=True
            ),
            referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                override=True,
            ),
            xss_protection=cloudfront.ResponseHeadersXSSProtection(
                protection=True, mode_block=True, override=True
            ),
        ),
    )


class Web(Construct):
    def __init__(
        self, scope: Construct, id: str, *, config: StageConfig, api: Api, log_bucket: s3.IBucket
    ) -> None:
        super().__init__(scope, id)
        if config.cockpit_domain and not config.certificate_arn:
            raise ValueError(f"{config.name}: cockpitDomain needs certificateArn (ACM, us-east-1)")
        self.custom_certificate = bool(config.certificate_arn)
        self.bucket = secure_bucket(self, "Site", log_bucket=log_bucket, log_prefix="web/")
        headers = _security_headers(self, api.domain.base_url())
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"CompanyOS cockpit ({config.name})",
            default_root_object="index.html",
            domain_names=[config.cockpit_domain] if config.cockpit_domain else None,
            certificate=(
                acm.Certificate.from_certificate_arn(self, "Certificate", config.certificate_arn)
                if config.certificate_arn
                else None
            ),
            # Only settable with a custom certificate; the default *.cloudfront.net one is fixed at TLSv1.
            minimum_protocol_version=(
                cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if config.certificate_arn else None
            ),
            # A CLOUDFRONT-scope AWS WAF web ACL made in us-east-1 (webAclArn in cdk.json), when the stage
            # has one: $5/month + $1 per rule + $0.60 per million requests (docs/decisions.md, #17).
            web_acl_id=config.web_acl_arn,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=log_bucket,
            log_file_prefix="cloudfront/",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
            ),
            additional_behaviors={
                "/api/*": cloudfront.BehaviorOptions(
                    origin=origins.RestApiOrigin(api.rest_api),
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    # Compression of API answers is the handlers' (companyos.api.compress_response:
                    # gzip from COMPRESS_MIN_BYTES, `Content-Encoding` + `Vary`), passed through as sent.
                    # CloudFront does not compress at the edge under a caching-disabled policy (its
                    # gzip/Brotli settings are refused when every TTL is 0), so `compress` here only
                    # takes effect if this behaviour ever caches. With the policy's gzip/Brotli off,
                    # Accept-Encoding is an ordinary viewer header, which ALL_VIEWER_EXCEPT_HOST_HEADER
                    # forwards to the origin (docs/decisions.md, #19).
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy=headers,
                    compress=True,
                ),
            },
        )
        self.url = f"https://{config.cockpit_domain or self.distribution.distribution_domain_name}"
        self._deploy(config, api, api.add_web_client(f"{self.url}/"))

    def _deploy(self, config: StageConfig, api: Api, client: cognito.UserPoolClient) -> None:
        """The web build and its config.json into the site bucket, then a CloudFront invalidation."""
        region = Stack.of(self).region
        s3deploy.BucketDeployment(
            self,
            "Deploy",
            destination_bucket=self.bucket,
            sources=[
                s3deploy.Source.asset(str(ROOT / "web"), exclude=["config.json", "*.md"]),
                s3deploy.Source.json_data(
                    "config.json",
                    {
                        "apiBase": "/api",
                        "environment": config.name,
                        "auth": {
                            "mode": "cognito",
                            "domain": api.domain.base_url(),
                            "clientId": client.user_pool_client_id,
                            "region": region,
                            "redirectUri": f"{self.url}/",
                        },
                    },
                ),
            ],
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
            log_group=logs.LogGroup(
                self,
                "DeployLogs",
                retention=config.log_retention,
                encryption_key=logs_key(self),
                removal_policy=RemovalPolicy.DESTROY,
            ),
        )
