// Single-source categories: demanded categories exactly one regional company declares.
//
// Scope, regional suppliers and demand as in gaps.cypher (and queries.gaps.find_gaps,
// single_source): the members of $cluster_id, else the companies in $region, else
// everyone; suppliers in $region, else the cluster's region, else anywhere.
// Losing that one supplier stops every buyer listed.
//
// @param cluster_id optional  the cluster whose members are the scope
// @param region optional  the region whose companies are the suppliers (and the scope without a cluster)
//
// Returns: category, name, supplier_id, supplier_name, capacity, demand, buyers
OPTIONAL MATCH (k:Cluster {id: $cluster_id})
WITH k, coalesce($region, k.region) AS reg
MATCH (m:Company)
WHERE ($cluster_id IS NULL AND ($region IS NULL OR m.region = $region))
   OR ($cluster_id IS NOT NULL AND k IS NOT NULL AND (m)-[:MEMBER_OF]->(k))
CALL {
  WITH m
  MATCH (m)-[:MAKES]->(p:Product)
  MATCH path = (p)-[:REQUIRES*1..20]->(c:Category)
  RETURN c, coalesce(p.annual_volume, 1.0) * reduce(q = 1.0, r IN relationships(path) | q * r.qty)
         AS qty, 'bom' AS src
  UNION ALL
  WITH m
  MATCH (m)-[n:NEEDS]->(c:Category)
  RETURN c, coalesce(n.qty_per_year, 0.0) AS qty, 'need' AS src
  UNION ALL
  WITH m
  MATCH (m)-[i:IMPORTS]->(c:Category)
  RETURN c, coalesce(i.volume_per_year, 0.0) AS qty, 'import' AS src
  UNION ALL
  WITH m
  MATCH (:Company)-[s:SUPPLIES]->(m)
  WHERE s.category IS NOT NULL
  MATCH (c:Category {code: s.category})
  RETURN c, coalesce(s.volume_per_year, 0.0) AS qty, 'supply' AS src
}
WITH reg, m, c, src, sum(qty) AS qty
WITH reg, m, c, max(qty) AS qty
WITH reg, c, sum(qty) AS demand, collect(m.id) AS buyers
MATCH (s:Company)-[cap:CAN_SUPPLY]->(c)
WHERE reg IS NULL OR s.region = reg
WITH c, demand, buyers, collect({id: s.id, name: s.name, capacity: cap.capacity_per_year}) AS sups
WHERE size(sups) = 1
RETURN c.code AS category, coalesce(c.name_en, c.name_ru) AS name, sups[0].id AS supplier_id,
       sups[0].name AS supplier_name, sups[0].capacity AS capacity, demand, buyers
ORDER BY category
