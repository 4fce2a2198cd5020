"""Argo CD on the hub, and every cluster's registration with it (IAM access, no static tokens)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from ..aws import eks_access
from ..config.model import ArgoCdSpec, WorkloadIdentity
from ..planning import gitops
from ..planning.iam_policies import argocd_hub_trust_policy
from ..planning.naming import partition
from . import k8s_objects
from .workload_roles import associations, workload_role

ADMIN_PASSWORD_LENGTH = 32


@dataclass(frozen=True)
class ArgoCdHubArgs:
    config: ArgoCdSpec
    """The validated fleet:argocd section."""
    hub: gitops.RegisteredCluster
    """The hub as Argo CD's in-cluster destination (server https://kubernetes.default.svc)."""
    region: str
    """The hub's region."""
    role_name_prefix: str
    """Prefix of the IAM role's name (role names are account-wide: the stack is in it)."""
    oidc_provider_arn: pulumi.Input[str]
    """The hub's IAM OIDC provider, for IRSA."""
    oidc_provider_url: pulumi.Input[str]
    """Its issuer URL, for the trust policy's sub/aud conditions."""
    tags: dict[str, str]
    """Tags for the AWS resources."""
    workload_identity: WorkloadIdentity = WorkloadIdentity.IRSA
    """fleet:workloadIdentity: how Argo CD's service accounts get the hub role."""
    cluster_arn: pulumi.Input[str] = ""
    """The hub cluster's ARN, which a Pod Identity trust pins."""
    eks_cluster: pulumi.Resource | None = None
    """The hub cluster: Argo CD's associations wait for it."""


class ArgoCdHub(pulumi.ComponentResource):
    """The argo-cd release with its IRSA role, repository credentials, the hub's own registration,
    the ApplicationSets and the optional root app."""

    role_arn: pulumi.Output[str]
    release: k8s.helm.v3.Release
    admin_password: pulumi.Output[str] | None

    def __init__(self, name: str, args: ArgoCdHubArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:index:ArgoCdHub", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)
        mode = args.workload_identity
        # Its trust names the hub cluster's service accounts only: adding a member changes no trust.
        role = workload_role(
            f"{name}-role",
            mode=mode,
            cluster=args.hub.name,
            purpose="argocd",
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_provider_url=args.oidc_provider_url,
            namespace=gitops.NAMESPACE,
            service_accounts=gitops.HUB_SERVICE_ACCOUNTS,
            tags=args.tags,
            opts=child,
            name_prefix=args.role_name_prefix,
            description="Argo CD on the hub: reaches member clusters through their EKS access entries",
            irsa_policy=argocd_hub_trust_policy,
            cluster_arn=args.cluster_arn,
        )
        self.role_arn = role.arn
        bound = associations(
            f"{name}-identity",
            mode=mode,
            cluster=args.hub.name,
            namespace=gitops.NAMESPACE,
            service_accounts=gitops.HUB_SERVICE_ACCOUNTS,
            role=role,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.eks_cluster] if args.eks_cluster else None),
        )

        namespace = k8s_objects.namespace(f"{name}-ns", gitops.NAMESPACE, child)

        self.admin_password = None
        password_hash = None
        if config.admin.enabled:
            password = random.RandomPassword(
                f"{name}-admin-password", random.RandomPasswordArgs(length=ADMIN_PASSWORD_LENGTH, special=False), child
            )
            self.admin_password = password.result
            password_hash = password.bcrypt_hash
        values: Any = gitops.argocd_values(config, role.arn, password_hash, mode)
        self.release = k8s_objects.pinned_release(
            f"{name}-chart",
            release_name="argocd",
            chart="argo-cd",
            version=config.chart_version,
            repository=config.chart_repository,
            namespace=namespace,
            values=values,
            secret_values=gitops.values_carry_credentials(config),
            opts=pulumi.ResourceOptions(parent=self, depends_on=bound),
        )

        # Credentials belong in a labelled Secret, not in Helm values (which every reader of the release sees).
        k8s.core.v1.Secret(
            f"{name}-repo",
            k8s.core.v1.SecretInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name="fleet-gitops-repo",
                    namespace=gitops.NAMESPACE,
                    labels={gitops.SECRET_TYPE_LABEL: "repository", gitops.MANAGED_BY_LABEL[0]: gitops.MANAGED_BY_LABEL[1]},
                ),
                string_data=pulumi.Output.secret(gitops.repository_secret_data(config.repo)),
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[namespace], additional_secret_outputs=["data", "stringData"]),
        )
        register_cluster(
            f"{name}-cluster-{args.hub.name}",
            args.hub.name,
            args.hub.server,
            args.hub.labels,
            gitops.IN_CLUSTER_CONFIG,
            {"fleet/in-cluster": "true"},
            pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        after_crds = pulumi.ResourceOptions(parent=self, depends_on=[self.release])
        for application_set in sorted(config.application_sets, key=lambda s: s.name):
            k8s_objects.custom_resource(
                f"{name}-appset-{application_set.name}",
                gitops.application_set_manifest(application_set, config.repo),
                after_crds,
            )
        if config.root_app is not None:
            k8s_objects.custom_resource(
                f"{name}-root", gitops.root_application_manifest(config.root_app, config.repo), after_crds
            )
        self.register_outputs({"roleArn": self.role_arn, "release": self.release.status})


def register_cluster(
    name: str,
    cluster_name: str,
    server: pulumi.Input[str],
    labels: Mapping[str, str],
    config: pulumi.Input[str],
    annotations: dict[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Secret:
    """The cluster Secret Argo CD discovers a destination by; its labels are what selectors match."""
    return k8s.core.v1.Secret(
        name,
        k8s.core.v1.SecretInitArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"cluster-{cluster_name}",
                namespace=gitops.NAMESPACE,
                labels={gitops.SECRET_TYPE_LABEL: "cluster", **labels},
                annotations=annotations,
            ),
            string_data=pulumi.Output.secret({"name": cluster_name, "server": server, "config": config}),
        ),
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["data", "stringData"])),
    )


@dataclass(frozen=True)
class ArgoCdMemberArgs:
    cluster_name: str
    """The member's EKS name, also its name in Argo CD."""
    labels: Mapping[str, str]
    """Labels of its cluster Secret: what ApplicationSet selectors match."""
    endpoint: pulumi.Input[str]
    """The member's API endpoint URL."""
    certificate_authority_data: pulumi.Input[str]
    """The member's CA, base64, for tlsClientConfig.caData."""
    cluster_arn: pulumi.Input[str]
    """The member's EKS ARN, for the Secret's annotations."""
    region: str
    """The member's region (the AWS provider passed in must be for it)."""
    hub_role_arn: pulumi.Input[str]
    """The hub's Argo CD role (its pods' IRSA identity), granted access here."""
    stack: str
    """The stack that owns the member, recorded in annotations."""
    eks_cluster: pulumi.Resource
    """The member's EKS cluster: its access entry can only be created once the cluster exists."""
    registered_here: bool = True
    """Whether this stack writes the cluster Secret (the hub's stack); False: the hub pulls it from this stack's outputs."""


class ArgoCdMember(pulumi.ComponentResource):
    """One member's side of its registration: an EKS access entry for the hub's role (on the member's
    AWS provider), and, in the hub's own stack, its cluster Secret on the hub (Kubernetes provider).

    A member of another stack (fleet:hub) keeps the same component and entry, so a stack that used to
    write its Secret into the hub keeps its entry when the hub starts pulling registrations.
    """

    def __init__(self, name: str, args: ArgoCdMemberArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:index:ArgoCdMember", name, None, opts)
        eks_name = args.cluster_name
        entry = aws.eks.AccessEntry(
            f"{name}-access",
            aws.eks.AccessEntryArgs(cluster_name=eks_name, principal_arn=args.hub_role_arn, type="STANDARD"),
            pulumi.ResourceOptions(parent=self, depends_on=[args.eks_cluster]),
        )
        self.association = aws.eks.AccessPolicyAssociation(
            f"{name}-admin",
            aws.eks.AccessPolicyAssociationArgs(
                cluster_name=eks_name,
                principal_arn=args.hub_role_arn,
                policy_arn=eks_access.policy_arn(partition(args.region), eks_access.CLUSTER_ADMIN_POLICY),
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[entry]),
        )
        if args.registered_here:
            # Registered once the hub's role may reach the cluster, so Argo CD's first sync succeeds.
            register_cluster(
                f"{name}-cluster",
                args.cluster_name,
                args.endpoint,
                args.labels,
                pulumi.Output.from_input(args.certificate_authority_data).apply(
                    lambda ca: gitops.cluster_secret_config(eks_name, ca)
                ),
                _annotations(args.cluster_arn, args.hub_role_arn, args.endpoint, args.stack),
                pulumi.ResourceOptions(parent=self, depends_on=[self.association]),
            )
        self.register_outputs({})


def _annotations(
    arn: pulumi.Input[str], hub_role_arn: pulumi.Input[str], endpoint: pulumi.Input[str], stack: str
) -> dict[str, pulumi.Input[str]]:
    return {"fleet/cluster-arn": arn, "fleet/hub-role-arn": hub_role_arn, "fleet/endpoint": endpoint, "fleet/stack": stack}


@dataclass(frozen=True)
class ArgoCdPulledMemberArgs:
    cluster_name: str
    """The member's EKS name, also its name in Argo CD (read from the member's stack file)."""
    labels: Mapping[str, str]
    """Labels of its cluster Secret, from the member's stack file."""
    registration: pulumi.Output[Any]
    """The member stack's registration output (gitops.REGISTRATION_OUTPUT), read by StackReference."""
    member_stack: str
    """The member stack's fully qualified name, for the error when it exports no registration yet."""
    hub_role_arn: pulumi.Input[str]
    """The hub's Argo CD role, which the member stack granted an access entry."""


class ArgoCdPulledMember(pulumi.ComponentResource):
    """A cluster of another stack registered by the hub: its Secret written on the hub, with the hub's
    own identity, from what the member stack exports. The member's identity needs nothing on the hub."""

    def __init__(self, name: str, args: ArgoCdPulledMemberArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:index:ArgoCdPulledMember", name, None, opts)
        cluster = args.registration.apply(lambda exported: gitops.pulled_cluster(exported, args.member_stack, args.cluster_name))
        self.server: pulumi.Output[str] = cluster.apply(lambda c: c.server)
        register_cluster(
            f"{name}-cluster",
            args.cluster_name,
            self.server,
            args.labels,
            cluster.apply(lambda c: gitops.cluster_secret_config(args.cluster_name, c.ca_data)),
            _annotations(
                cluster.apply(lambda c: c.arn),
                args.hub_role_arn,
                self.server,
                args.member_stack.rsplit("/", 1)[-1],
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"server": self.server})
