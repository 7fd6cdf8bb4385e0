// A product's supply chain: its BOM flattened over every level (quantities multiplied
// down the REQUIRES paths and summed over paths, as queries.bom.expand_bom does) with
// the companies that declare each category (CAN_SUPPLY) and its current suppliers to
// the product's maker (SUPPLIES).
//
// Path enumeration: fine for a product's BOM of a few hundred lines; for very large,
// dense BOMs use `coopgraph plan` (a topological pass in Python).
//
// @param product_id required  the end product
// @param volume optional  units per year (default: the product's annual_volume, else 1)
//
// Returns: category, name, level (shortest), per_unit, total_qty, is_leaf,
//          suppliers [{id, name, region, capacity, unit_price}], current [{id, volume}]
MATCH (p:Product {id: $product_id})
OPTIONAL MATCH (maker:Company)-[:MAKES]->(p)
MATCH path = (p)-[:REQUIRES*1..20]->(c:Category)
WITH p, maker, c,
     sum(reduce(q = 1.0, r IN relationships(path) | q * r.qty)) AS per_unit,
     min(length(path)) AS level
OPTIONAL MATCH (s:Company)-[cap:CAN_SUPPLY]->(c)
WITH p, maker, c, per_unit, level,
     collect(CASE WHEN s IS NOT NULL THEN {id: s.id, name: s.name, region: s.region,
             capacity: cap.capacity_per_year, unit_price: cap.unit_price} END) AS suppliers
OPTIONAL MATCH (cur:Company)-[link:SUPPLIES {category: c.code}]->(maker)
WITH p, c, per_unit, level, suppliers,
     collect(CASE WHEN cur IS NOT NULL THEN {id: cur.id, volume: link.volume_per_year} END)
       AS current
RETURN c.code AS category, coalesce(c.name_en, c.name_ru) AS name, level, per_unit,
       per_unit * coalesce($volume, p.annual_volume, 1.0) AS total_qty,
       NOT EXISTS { (c)-[:REQUIRES]->(:Category) } AS is_leaf, suppliers, current
ORDER BY level, category
