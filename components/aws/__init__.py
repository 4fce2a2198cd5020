"""The ground floor: facts about AWS, Kubernetes and the Pulumi engine, each with its source."""
