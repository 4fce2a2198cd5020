"""A cluster's public edge: an NLB the program owns, bound to the in-cluster ingress Service.

The AWS Load Balancer Controller only keeps the target group's pod IPs current (through a
TargetGroupBinding); it never creates load balancers. So Route53 knows the NLB's name and zone at
deploy time, and `pulumi destroy` removes everything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..config.model import IngressTarget, WorkloadIdentity
from ..planning import naming, workload_identity
from ..planning.iam_policies import LOAD_BALANCER_CONTROLLER_SA, load_balancer_controller_policy
from .workload_roles import associations, workload_role

LOAD_BALANCER_CONTROLLER_REPO = "https://aws.github.io/eks-charts"


@dataclass(frozen=True)
class RegionalEdgeArgs:
    cluster_name: str
    """EKS cluster name, for the controller."""
    region: str
    """The cluster's region; the controller is told it so it never asks IMDS."""
    vpc_cidr: str
    """The VPC range the NLB forwards into."""
    vpc_id: pulumi.Input[str]
    """The cluster's VPC."""
    public_subnet_ids: pulumi.Input[list[str]]
    """Subnets the internet-facing NLB lives in."""
    cluster_security_group_id: pulumi.Input[str]
    """The EKS-managed security group on the managed nodes (and so on pods)."""
    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider, for the controller's IRSA role."""
    oidc_provider_url: pulumi.Input[str]
    """Its issuer URL, for the trust policy's sub/aud conditions."""
    ingress: IngressTarget
    """The in-cluster Service the NLB forwards to."""
    controller_chart_version: str
    """Pinned aws-load-balancer-controller chart version."""
    protect: bool
    """Protect the NLB from deletion (Pulumi protect and the load balancer's deletion protection)."""
    tags: dict[str, str]
    """Tags for the AWS resources."""
    workload_identity: WorkloadIdentity = WorkloadIdentity.IRSA
    """fleet:workloadIdentity: how the controller gets its role."""
    cluster_arn: str = ""
    """The cluster's ARN, which a Pod Identity trust pins."""
    eks_cluster: pulumi.Resource | None = None
    """The cluster: the controller's association waits for it."""


class RegionalEdge(pulumi.ComponentResource):
    hostname: pulumi.Output[str]
    zone_id: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]

    def __init__(self, name: str, args: RegionalEdgeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:index:RegionalEdge", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        port = args.ingress.port
        # The controller registers pod IP + the Service's targetPort: that is where the NLB connects.
        target_port = args.ingress.effective_target_port
        namespace, service_account = LOAD_BALANCER_CONTROLLER_SA

        nlb_security_group = aws.ec2.SecurityGroup(
            f"{name}-nlb-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=args.vpc_id, description=f"{args.cluster_name} edge NLB", tags={**args.tags, "Name": f"{name}-nlb"}
            ),
            child,
        )
        # The edge listener is the one port open to the internet; the NLB reaches only pods behind it.
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-nlb-listener",
            aws.vpc.SecurityGroupIngressRuleArgs(
                security_group_id=nlb_security_group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4="0.0.0.0/0",
                description="Public edge listener (clients and Route53 health checkers)",
            ),
            child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-nlb-to-pods",
            aws.vpc.SecurityGroupEgressRuleArgs(
                security_group_id=nlb_security_group.id,
                ip_protocol="tcp",
                from_port=target_port,
                to_port=target_port,
                cidr_ipv4=args.vpc_cidr,
                description="NLB to ingress pod IPs on the Service's target port",
            ),
            child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-pods-from-nlb",
            aws.vpc.SecurityGroupIngressRuleArgs(
                security_group_id=args.cluster_security_group_id,
                referenced_security_group_id=nlb_security_group.id,
                ip_protocol="tcp",
                from_port=target_port,
                to_port=target_port,
                description="Ingress pods from the edge NLB only, on the Service's target port",
            ),
            child,
        )

        load_balancer = aws.lb.LoadBalancer(
            f"{name}-nlb",
            aws.lb.LoadBalancerArgs(
                name=naming.load_balancer_name(args.cluster_name),
                load_balancer_type="network",
                enable_deletion_protection=args.protect,
                internal=False,
                subnets=args.public_subnet_ids,
                security_groups=[nlb_security_group.id],
                enable_cross_zone_load_balancing=True,
                tags=args.tags,
            ),
            pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            aws.lb.TargetGroupArgs(
                name=naming.target_group_name(args.cluster_name, port),
                vpc_id=args.vpc_id,
                port=port,
                protocol="TCP",
                target_type="ip",
                deregistration_delay=30,
                health_check=aws.lb.TargetGroupHealthCheckArgs(protocol="TCP", port="traffic-port"),
                tags=args.tags,
            ),
            child,
        )
        aws.lb.Listener(
            f"{name}-listener",
            aws.lb.ListenerArgs(
                load_balancer_arn=load_balancer.arn,
                port=port,
                protocol="TCP",
                default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)],
                tags=args.tags,
            ),
            child,
        )

        mode = args.workload_identity
        controller_role = workload_role(
            f"{name}-lbc-role",
            mode=mode,
            cluster=args.cluster_name,
            purpose="lb-controller",
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_provider_url=args.oidc_provider_url,
            namespace=namespace,
            service_accounts=(service_account,),
            tags=args.tags,
            opts=child,
            cluster_arn=args.cluster_arn,
        )
        bound = associations(
            f"{name}-lbc-identity",
            mode=mode,
            cluster=args.cluster_name,
            namespace=namespace,
            service_accounts=(service_account,),
            role=controller_role,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.eks_cluster] if args.eks_cluster else None),
        )
        controller_policy = aws.iam.RolePolicy(
            f"{name}-lbc-policy",
            aws.iam.RolePolicyArgs(
                role=controller_role.id,
                policy=target_group.arn.apply(lambda arn: json.dumps(load_balancer_controller_policy([arn]))),
            ),
            child,
        )
        controller = k8s.helm.v3.Release(
            f"{name}-lbc",
            k8s.helm.v3.ReleaseArgs(
                name="aws-load-balancer-controller",
                chart="aws-load-balancer-controller",
                version=args.controller_chart_version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=LOAD_BALANCER_CONTROLLER_REPO),
                namespace=namespace,
                atomic=True,
                values={
                    "clusterName": args.cluster_name,
                    "region": args.region,
                    "vpcId": args.vpc_id,
                    "replicaCount": 2,
                    "serviceAccount": {
                        "create": True,
                        "name": service_account,
                        "annotations": workload_identity.service_account_annotations(mode, controller_role.arn),
                    },
                    # A change of mode restarts the pods, which get the new mode's credentials as they start.
                    **({"podAnnotations": pods} if (pods := workload_identity.pod_annotations(mode)) else {}),
                    # Only TargetGroupBindings: no webhook turning Services into load balancers,
                    # no security-group management, no WAF/Shield calls it has no permission for.
                    "enableServiceMutatorWebhook": False,
                    "enableBackendSecurityGroup": False,
                    "enableShield": False,
                    "enableWaf": False,
                    "enableWafv2": False,
                    # No ALB IngressClass (its IAM policy cannot create ALBs) and no Service controller
                    # (nor NLBs): an Ingress or a LoadBalancer Service would sit unserved instead of
                    # appearing to be handled.
                    "createIngressClassResource": False,
                    "controllerConfig": {"featureGates": {"EnableServiceController": False}},
                },
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[controller_policy, *bound]),
        )

        ingress_namespace = k8s.core.v1.Namespace(
            f"{name}-ingress",
            k8s.core.v1.NamespaceInitArgs(metadata=k8s.meta.v1.ObjectMetaArgs(name=args.ingress.namespace)),
            opts=child,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-binding",
            api_version="elbv2.k8s.aws/v1beta1",
            kind="TargetGroupBinding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.ingress.service, namespace=ingress_namespace.metadata.name),
            spec={
                "serviceRef": {"name": args.ingress.service, "port": port},
                "targetGroupARN": target_group.arn,
                "targetType": "ip",
            },
            # The CRD comes with the controller's chart. Its webhook refuses a changed targetGroupARN
            # and a second binding to a bound target group: a new target group means delete, then create.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[controller],
                delete_before_replace=True,
                replace_on_changes=["spec.targetGroupARN"],
            ),
        )

        self.hostname = load_balancer.dns_name
        self.zone_id = aws.lb.get_hosted_zone_id_output(
            load_balancer_type="network", region=args.region, opts=pulumi.InvokeOutputOptions(parent=self)
        ).id
        self.target_group_arn = target_group.arn
        self.register_outputs({"hostname": self.hostname, "zoneId": self.zone_id, "targetGroupArn": self.target_group_arn})
