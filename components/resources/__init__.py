"""Pulumi components and the resource code they share: each turns planned values into AWS and Kubernetes resources."""
