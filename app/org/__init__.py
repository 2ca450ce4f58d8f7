"""Organizations of the county medical community: county hospital, departments, townships, villages."""
