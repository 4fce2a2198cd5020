"""Kubernetes objects every component creates the same way: namespaces, pinned Helm releases, custom resources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s


def namespace(resource_name: str, name: str, opts: pulumi.ResourceOptions) -> k8s.core.v1.Namespace:
    return k8s.core.v1.Namespace(
        resource_name, k8s.core.v1.NamespaceInitArgs(metadata=k8s.meta.v1.ObjectMetaArgs(name=name)), opts=opts
    )


def pinned_release(
    resource_name: str,
    *,
    release_name: str,
    chart: str,
    version: str,
    repository: str,
    namespace: k8s.core.v1.Namespace | str,
    values: pulumi.Input[Mapping[str, Any]],
    opts: pulumi.ResourceOptions,
    secret_values: bool = False,
) -> k8s.helm.v3.Release:
    """A real Helm release (hooks run, unlike helm.v4.Chart) of a pinned chart version, in a namespace the program owns.

    ``secret_values`` keeps the values map a Pulumi secret in state and says so in
    ``additionalSecretOutputs``, which is what the policy pack can see (its SDK unwraps secrets).
    ``namespace`` is one the program creates, or the name of one every cluster has (kube-system).
    """
    return k8s.helm.v3.Release(
        resource_name,
        k8s.helm.v3.ReleaseArgs(
            name=release_name,
            chart=chart,
            version=version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repository),
            namespace=namespace.metadata.name if isinstance(namespace, k8s.core.v1.Namespace) else namespace,
            values=pulumi.Output.secret(values) if secret_values else values,
        ),
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                depends_on=[namespace] if isinstance(namespace, k8s.core.v1.Namespace) else [],
                additional_secret_outputs=["values"] if secret_values else None,
            ),
        ),
    )


def custom_resource(
    resource_name: str, manifest: Mapping[str, Any], opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    """A custom resource from a plain manifest (apiVersion, kind, metadata, spec)."""
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=k8s.meta.v1.ObjectMetaArgs(**manifest["metadata"]),
        spec=manifest["spec"],
        opts=opts,
    )
