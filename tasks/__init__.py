"""Pure, typed transforms of newsflow: bytes -> documents -> articles -> rows."""
