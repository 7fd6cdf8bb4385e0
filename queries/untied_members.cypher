// Members without cooperation ties: members of $cluster_id with no SUPPLIES link,
// either way, to another member of the same cluster.
//
// Government Resolution No. 779 of 31.07.2015 (as amended) wants every member tied by
// at least one cooperation contract; at most 3 may lack one (for 3 years). Same answer
// as queries.kpi.cluster_kpis (untied_members) and queries.gaps.find_gaps (untied).
//
// @param cluster_id required  the cluster
//
// Returns: company_id, name, roles
MATCH (k:Cluster {id: $cluster_id})<-[:MEMBER_OF]-(m:Company)
WHERE NOT EXISTS {
  MATCH (m)-[:SUPPLIES]-(o:Company)-[:MEMBER_OF]->(k)
  WHERE o <> m
}
RETURN m.id AS company_id, m.name AS name, m.roles AS roles
ORDER BY company_id
