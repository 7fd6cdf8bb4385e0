// Gaps: categories the scope demands that no regional company declares (import dependencies).
//
// Scope: the members of $cluster_id; without a cluster, the companies in $region;
// without either, every company. Regional suppliers: companies in $region, else in
// the cluster's region, else every company.
// Demand per (company, category) is the largest of: BOM demand (each product made by
// the company × annual_volume (1 when unknown), quantities multiplied down every
// REQUIRES path and summed over paths — every level, assemblies and components), its
// NEEDS qty_per_year, its IMPORTS volume summed over countries, and what it buys
// now (SUPPLIES volume_per_year summed over suppliers, links with a category). Same rules as
// queries.gaps.find_gaps (import_dependency); path enumeration, so meant for a
// region's data, not a country's.
//
// @param cluster_id optional  the cluster whose members are the scope
// @param region optional  the region whose companies are the suppliers (and the scope without a cluster)
//
// Returns: category, name, demand (units/year), buyers (company ids), importers
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
WITH reg, m, c, max(qty) AS qty, collect(src) AS sources
WITH reg, c, sum(qty) AS demand, collect(m.id) AS buyers,
     collect(CASE WHEN 'import' IN sources THEN m.id END) AS importers
WHERE NOT EXISTS { MATCH (s:Company)-[:CAN_SUPPLY]->(c) WHERE reg IS NULL OR s.region = reg }
RETURN c.code AS category, coalesce(c.name_en, c.name_ru) AS name, demand, buyers, importers
ORDER BY category
