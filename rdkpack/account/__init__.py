"""An account: read its resources (inventory), evaluate the rules on them (scan), or an embedded one (demo)."""
