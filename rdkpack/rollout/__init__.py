"""Organization rollout: stage the code, deploy every prerequisite as a StackSet, then the packs; status; remove."""
