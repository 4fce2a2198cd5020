"""Pure planning: what the fleet needs and what AWS allows, as data. Nothing here creates a resource;
all of it is tested without mocks."""
