"""Layer marts: the contract of the marts (schemas/marts.yaml) joined with their SQL (sql/marts/), and the check
against the published report."""
