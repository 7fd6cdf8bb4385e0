// Strings of the interactive what-if, the cluster plan and the exports (issue #12): English.
export default {
  'whatif.lede': 'Tick the links to keep and change a volume if you wish (at most the supplier\'s free capacity): the KPIs are recomputed at once.',
  'whatif.lede_member': 'Tick the links to keep: the tie KPIs are recomputed at once. Other companies\' volumes are not shown to you.',
  'whatif.refused': 'Could not recompute',
  'whatif.volume': 'Volume, units/yr',
  'whatif.free': 'Free capacity',
  'whatif.keep': 'Keep the link',
  'whatif.for_kpi': 'KPI',
  'whatif.all': 'Tick all',
  'whatif.none': 'Untick all',
};
