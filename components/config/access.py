"""Who may use the clusters (fleet:deployer, fleet:access): access entries as a function of the config alone."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from ..aws.eks_access import AccessLevel
from ..aws.iam_arns import principal_key
from .types import DnsLabel, IamPrincipalArn, Model


class DeployerSpec(Model):
    """The one identity that runs `pulumi up` for this stack; the preflight refuses any other."""

    principal: IamPrincipalArn
    """The role (or user) this stack is deployed as; for an assumed role, the role's ARN, not a session's."""
    creator: IamPrincipalArn | None = None
    """Who created the clusters, when no longer the principal (after a deploy-role rotation): EKS made its
    admin entry, so the program never creates one for it. Unset: the principal."""
    creators: dict[DnsLabel, IamPrincipalArn] = Field(default_factory=dict)
    """Who created each cluster, where it is not ``creator`` (or, without one, the principal): after a
    rotation that was followed by new clusters, the old role per old cluster. A cluster it does not
    name was created by ``creator``, else by the principal, which EKS gave its own entry there."""

    preview: IamPrincipalArn | None = None
    """A read-only role for pull-request previews: view on every cluster, accepted only by `pulumi preview`."""

    @model_validator(mode="after")
    def _preview_is_not_the_deployer(self) -> DeployerSpec:
        reserved = {principal_key(self.principal), principal_key(self.cluster_creator)}
        reserved |= {principal_key(arn) for arn in self.creators.values()}
        if self.preview is not None and principal_key(self.preview) in reserved:
            raise ValueError("preview must be another role than the principal and the creator (it gets view only)")
        return self

    @property
    def cluster_creator(self) -> str:
        """The principal whose admin entry EKS made at creation on the clusters that existed at the rotation."""
        return self.creator or self.principal

    def creator_of(self, cluster: str) -> str:
        """Who created ``cluster`` (and holds its EKS-made admin entry)."""
        return self.creators.get(cluster) or self.creator or self.principal


class AccountSpec(Model):
    """The AWS account a stack deploys into, by assuming a role there (fleet:account)."""

    id: Annotated[str, Field(pattern=r"^\d{12}$")]
    """The 12-digit account id: every AWS provider of the stack refuses to act in any other."""
    role_arn: IamPrincipalArn
    """The role assumed there: it creates the clusters, so it is fleet:deployer.principal."""

    @model_validator(mode="after")
    def _role_in_the_account(self) -> AccountSpec:
        if ":role/" not in self.role_arn or principal_key(self.role_arn)[1] != self.id:
            raise ValueError(f"roleArn must be a role of account {self.id}")
        return self


class AccessEntrySpec(Model):
    """One principal's access to the stack's clusters."""

    principal: IamPrincipalArn
    """An IAM role or user ARN; one entry per principal (EKS allows no second)."""
    level: AccessLevel
    """admin, edit or view, mapping to EKS's access policies (view reads no Secrets)."""
    namespaces: Annotated[list[DnsLabel], Field(max_length=100)] = Field(default_factory=list)
    """Only these namespaces; empty: the whole cluster."""
    clusters: list[DnsLabel] | None = None
    """Only on these clusters of the stack; unset: every cluster."""

    @model_validator(mode="after")
    def _unique_namespaces(self) -> AccessEntrySpec:
        if len(set(self.namespaces)) != len(self.namespaces):
            raise ValueError("namespaces lists a namespace twice")
        return self
