"""Legal cases (issue 5): routing, filing, titles, enforcement and the dishonest-debtor list."""
