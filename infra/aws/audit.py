"""The audit chain's digest signing key: asymmetric KMS, ECC_NIST_P256, SIGN_VERIFY (docs/admin.md).

The private key never leaves KMS; `AUDIT_SIGNING_KEY_ID` names it to the functions flagged
`signs_audit`, which get kms:Sign, kms:Verify and kms:GetPublicKey on this key only. Asymmetric keys
cannot rotate automatically; old signatures stay verifiable with the exported public key.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

SIGNING_ACTIONS = ["kms:Sign", "kms:Verify", "kms:GetPublicKey"]


class AuditSigning(Construct):
    def __init__(self, scope: Construct, id: str, *, prefix: str, retain: bool) -> None:
        super().__init__(scope, id)
        self.key = kms.Key(
            self,
            "Key",
            description="CompanyOS audit chain: digest signing (ECC_NIST_P256)",
            key_spec=kms.KeySpec.ECC_NIST_P256,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            alias=f"alias/{prefix}-audit-signing",
            # Like the data key: retained outside dev (signed heads are verified against it).
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )

    def grant_sign(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=SIGNING_ACTIONS, resources=[self.key.key_arn])
        )
