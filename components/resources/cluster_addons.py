"""In-cluster add-ons every cluster needs to run real workloads: node autoscaling, GPUs, storage, metrics."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..aws import eks_addons, eks_releases
from ..config.model import AddonPin, AddonVersionsSpec, ClusterSpec, WorkloadIdentity, pinned_version
from ..planning import autoscaling, naming
from ..planning import workload_identity as identity
from ..planning.iam_policies import cluster_autoscaler_policy, ebs_key_policy
from . import k8s_objects
from .workload_roles import associations, workload_role

EBS_CSI = eks_addons.BY_NAME["aws-ebs-csi-driver"]
EBS_CSI_SERVICE_ACCOUNT = ("kube-system", str(EBS_CSI.service_account))
DEFAULT_STORAGE_CLASS = "gp3-encrypted"


@dataclass(frozen=True)
class ClusterAddonsArgs:
    spec: ClusterSpec
    """The cluster entry, with its addons switches and node groups."""
    kubernetes_version: str
    """The cluster's minor version: the autoscaler image and EKS add-on defaults follow it."""
    versions: AddonVersionsSpec
    """Pinned chart and add-on versions (fleet:addons)."""
    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider, for the add-ons' IRSA roles."""
    oidc_provider_url: pulumi.Input[str]
    """Its issuer URL, for the trust policies' sub/aud conditions."""
    node_groups: tuple[pulumi.Resource, ...]
    """The cluster's node groups: EKS add-ons wait for nodes to run on."""
    tags: dict[str, str]
    """Tags for the AWS resources."""
    eks_cluster: pulumi.Resource
    """The pulumi-eks cluster: CoreDNS's add-on was its child before it moved here (an alias keeps it)."""
    preserve_coredns_config: bool = False
    """Keep in-cluster CoreDNS edits across add-on updates (Lighthouse's clusterset.local forward)."""
    workload_identity: WorkloadIdentity = WorkloadIdentity.IRSA
    """fleet:workloadIdentity: how the autoscaler and the EBS CSI driver get their roles."""
    cluster_arn: str = ""
    """The cluster's ARN, which a Pod Identity trust pins (the eks-cluster-arn session tag)."""


class ClusterAddons(pulumi.ComponentResource):
    """cluster-autoscaler, the NVIDIA device plugin, the EBS CSI driver with a default encrypted StorageClass, metrics-server."""

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:index:ClusterAddons", name, None, opts)
        self.versions: dict[str, pulumi.Output[str]] = {}
        """Each EKS add-on of components/aws/eks_addons.py this cluster runs, at its resolved version."""
        spec = args.spec
        addons = spec.addons
        part = naming.partition(spec.region)
        # The agent that serves Pod Identity credentials on every node. The workloads' releases wait for their
        # associations (EKS injects the credentials' variables only into pods started after one exists), not
        # for the agent: a pod that asks before its node's agent answers gets an error its SDK call retries,
        # and waiting would put the add-on's create on every cluster's critical path.
        self.agent: list[pulumi.Resource] = []
        if identity.uses_pod_identity(args.workload_identity):
            self.agent.append(self._eks_addon_named(name, identity.AGENT_ADDON, "pod-identity-agent", args, None))
        if addons.autoscaler:
            self._autoscaler(name, args, part)
        if spec.runs_gpu_plugin:
            namespace = k8s_objects.namespace(
                f"{name}-nvidia-ns", autoscaling.NVIDIA_NAMESPACE, pulumi.ResourceOptions(parent=self)
            )
            k8s_objects.pinned_release(
                f"{name}-nvidia",
                release_name="nvidia-device-plugin",
                chart="nvidia-device-plugin",
                version=args.versions.nvidia_device_plugin_chart_version,
                repository=autoscaling.NVIDIA_REPO,
                namespace=namespace,
                values=autoscaling.device_plugin_values(),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.coredns = self._coredns(name, args)
        for addon in eks_addons.EKS_ADDONS:
            if not getattr(addons, addon.switch):
                continue
            if addon is EBS_CSI:
                self._storage(name, args, part)  # its IRSA role, the add-on, and the default StorageClass
            else:
                self._eks_addon(name, addon, args, None)
        self.register_outputs({"versions": self.versions})

    def _role(self, name: str, args: ClusterAddonsArgs, account: tuple[str, str], purpose: str) -> aws.iam.Role:
        return workload_role(
            name,
            mode=args.workload_identity,
            cluster=args.spec.name,
            purpose=purpose,
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_provider_url=args.oidc_provider_url,
            namespace=account[0],
            service_accounts=(account[1],),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
            cluster_arn=args.cluster_arn,
        )

    def _autoscaler(self, name: str, args: ClusterAddonsArgs, part: str) -> None:
        spec = args.spec
        account = (autoscaling.AUTOSCALER_NAMESPACE, autoscaling.AUTOSCALER_SERVICE_ACCOUNT)
        role = self._role(f"{name}-autoscaler-role", args, account, "autoscaler")
        bound = associations(
            f"{name}-autoscaler-identity",
            mode=args.workload_identity,
            cluster=spec.name,
            namespace=account[0],
            service_accounts=(account[1],),
            role=role,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.eks_cluster]),
        )
        policy = aws.iam.RolePolicy(
            f"{name}-autoscaler-policy",
            aws.iam.RolePolicyArgs(role=role.id, policy=json.dumps(cluster_autoscaler_policy(part, spec.region, spec.name))),
            pulumi.ResourceOptions(parent=self),
        )
        k8s_objects.pinned_release(
            f"{name}-autoscaler",
            release_name="cluster-autoscaler",
            chart="cluster-autoscaler",
            version=args.versions.cluster_autoscaler_chart_version,
            repository=autoscaling.AUTOSCALER_REPO,
            namespace=autoscaling.AUTOSCALER_NAMESPACE,
            values=autoscaling.autoscaler_values(
                spec.name, spec.region, role.arn, args.kubernetes_version, args.workload_identity
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, *bound]),
        )

    def _storage(self, name: str, args: ClusterAddonsArgs, part: str) -> None:
        key = args.versions.storage_kms_key_arn
        role = self._role(f"{name}-ebs-csi-role", args, EBS_CSI_SERVICE_ACCOUNT, "ebs-csi")
        attachments: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(
                f"{name}-ebs-csi-policy",
                aws.iam.RolePolicyAttachmentArgs(
                    role=role.name, policy_arn=f"arn:{part}:iam::aws:policy/{EBS_CSI.managed_policy}"
                ),
                pulumi.ResourceOptions(parent=self),
            )
        ]
        if key is not None:
            attachments.append(
                aws.iam.RolePolicy(
                    f"{name}-ebs-csi-kms",
                    aws.iam.RolePolicyArgs(role=role.id, policy=json.dumps(ebs_key_policy(key))),
                    pulumi.ResourceOptions(parent=self),
                )
            )
        # After the agent: a change of its associations restarts the add-on's pods.
        addon = self._eks_addon(name, EBS_CSI, args, role, [*attachments, *self.agent])
        parameters = {"type": "gp3", "encrypted": "true", **({"kmsKeyId": key} if key else {})}
        k8s.storage.v1.StorageClass(
            f"{name}-gp3",
            k8s.storage.v1.StorageClassInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=DEFAULT_STORAGE_CLASS, annotations={"storageclass.kubernetes.io/is-default-class": "true"}
                ),
                provisioner="ebs.csi.aws.com",
                parameters=parameters,
                # Volumes are zonal: create them where the pod is scheduled, not before.
                volume_binding_mode="WaitForFirstConsumer",
                allow_volume_expansion=True,
                reclaim_policy="Delete",
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[addon]),
        )

    def _coredns(self, name: str, args: ClusterAddonsArgs) -> aws.eks.Addon:
        """CoreDNS as the EKS add-on at its minor's pinned build (components/aws/eks_releases.py), so an
        upgrade moves it (EKS never upgrades a self-managed CoreDNS), created once nodes exist to run it.
        Creating it adopts the deployment EKS made at cluster creation with EKS's defaults (OVERWRITE);
        clusterset members keep their Lighthouse forward across updates (PRESERVE)."""
        created = aws.eks.Addon(
            f"{name}-coredns",
            aws.eks.AddonArgs(
                cluster_name=args.spec.name,
                addon_name="coredns",
                addon_version=eks_releases.RELEASES[args.kubernetes_version].coredns,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="PRESERVE" if args.preserve_coredns_config else "OVERWRITE",
                # As pulumi-eks made it: deleting the resource leaves the cluster its DNS (the
                # deployment stays, self-managed), never a cluster without CoreDNS.
                preserve=True,
                tags=args.tags,
            ),
            pulumi.ResourceOptions(
                parent=self,
                depends_on=list(args.node_groups),
                # Until #34 pulumi-eks created it as the cluster's child (`<cluster>-eks-coredns`):
                # the same EKS add-on, moved, never deleted and created again.
                aliases=[pulumi.Alias(name=f"{args.spec.name}-eks-coredns", parent=args.eks_cluster)],
            ),
        )
        self.versions["coredns"] = created.addon_version
        return created

    def _eks_addon(
        self,
        name: str,
        addon: eks_addons.EksAddon,
        args: ClusterAddonsArgs,
        role: aws.iam.Role | None,
        depends_on: list[pulumi.Resource] | None = None,
    ) -> aws.eks.Addon:
        """An EKS add-on at its version for this cluster's minor (components/aws/eks_addons.py): the pin,
        else EKS's default build for the minor, so an upgrade moves it with the cluster."""
        pin: AddonPin = getattr(args.versions, addon.pin_field)
        version = pinned_version(pin, args.kubernetes_version)
        return self._eks_addon_named(name, addon.name, addon.part, args, version, role, depends_on, addon.service_account)

    def _eks_addon_named(
        self,
        name: str,
        addon_name: str,
        part: str,
        args: ClusterAddonsArgs,
        version: str | None,
        role: aws.iam.Role | None = None,
        depends_on: list[pulumi.Resource] | None = None,
        service_account: str | None = None,
    ) -> aws.eks.Addon:
        """An EKS add-on at ``version``, else EKS's default build for the cluster's minor. Its service account
        gets ``role`` by IRSA (serviceAccountRoleArn), Pod Identity (the add-on's own association: an
        add-on cannot adopt a standalone one), or both while a fleet moves (planning/workload_identity.py)."""
        resolved: pulumi.Input[str] = (
            version
            if version is not None
            else aws.eks.get_addon_version_output(
                addon_name=addon_name,
                kubernetes_version=args.kubernetes_version,
                most_recent=False,
                opts=pulumi.InvokeOutputOptions(parent=self),
            ).version
        )
        mode = args.workload_identity
        created = aws.eks.Addon(
            f"{name}-{part}",
            aws.eks.AddonArgs(
                cluster_name=args.spec.name,
                addon_name=addon_name,
                addon_version=resolved,
                # Kept under Pod Identity too: EKS ignores it once the agent runs, and dropping it sends
                # an empty ServiceAccountRoleArn, which EKS refuses (hashicorp/terraform-provider-aws#30645).
                service_account_role_arn=role.arn if role is not None else None,
                pod_identity_associations=[
                    aws.eks.AddonPodIdentityAssociationArgs(role_arn=role.arn, service_account=service_account)
                ]
                if role is not None and service_account is not None and identity.uses_pod_identity(mode)
                else None,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="PRESERVE",
                tags=args.tags,
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[*args.node_groups, *(depends_on or [])]),
        )
        self.versions[addon_name] = created.addon_version
        return created
