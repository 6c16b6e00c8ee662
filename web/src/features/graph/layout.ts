import dagre from "@dagrejs/dagre";

/** A box to place: its id and size in pixels. */
export interface Box {
  id: string;
  width: number;
  height: number;
}

/**
 * Places boxes left to right in layers so that every edge points the same way (what depends on
 * what reads as a flow), with dagre's layered (Sugiyama) layout. Returns each box's top-left
 * corner, as React Flow positions nodes.
 */
export function layeredLayout(boxes: Box[], edges: { source: string; target: string }[]): Map<string, { x: number; y: number }> {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "LR", nodesep: 24, ranksep: 80, marginx: 16, marginy: 16 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const box of boxes) graph.setNode(box.id, { width: box.width, height: box.height });
  for (const edge of edges) {
    if (graph.hasNode(edge.source) && graph.hasNode(edge.target)) graph.setEdge(edge.source, edge.target);
  }
  dagre.layout(graph);
  const placed = new Map<string, { x: number; y: number }>();
  for (const box of boxes) {
    const node = graph.node(box.id);
    // dagre gives centres.
    placed.set(box.id, { x: (node?.x ?? 0) - box.width / 2, y: (node?.y ?? 0) - box.height / 2 });
  }
  return placed;
}
