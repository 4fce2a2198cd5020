"""Building blocks of the fleet program.

Pure modules (no resources): ``model``, ``validation``, ``cidr``, ``naming``, ``labels``,
``instance_types``, ``eks_versions``, ``kubeconfig``. Resource modules: ``providers``,
``network``, ``cluster``, ``fleet``. Only ``stack_config`` reads Pulumi config.
"""
