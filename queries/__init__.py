"""Queries: ranking, chains, gaps and KPIs — pure functions over the analytic projection."""
