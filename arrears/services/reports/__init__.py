"""Reports: the collection rate (收缴率) and recovery (清欠), aging (账龄), the dashboard and the
monthly collection report. Grouped SQL over the company; pure arithmetic in ``arrears.domain.reporting``."""
