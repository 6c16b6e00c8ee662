import { useMemo } from "react";
import { Background, Controls, MarkerType, ReactFlow, type Edge, type Node } from "@xyflow/react";
import { layeredLayout } from "./layout";

/** A node to draw: an asset, with what the reader needs to tell it apart. */
export interface GraphNode {
  id: string;
  label: string;
  /** The asset's type (`server`, `application`, `database`…), shown under its name. */
  kind: string;
  /** The asset the graph is centred on. */
  focus?: boolean;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  /** How the source depends on the target (`runs_on`, `connects_to`…). */
  label?: string;
}

const WIDTH = 190;
const HEIGHT = 56;

/** The graph, pannable and zoomable (React Flow), laid out in layers (dagre). Clicking a node
 * calls `onOpen` with its id. */
export function GraphView({ nodes, edges, onOpen }: { nodes: GraphNode[]; edges: GraphEdge[]; onOpen: (id: string) => void }) {
  const [flowNodes, flowEdges] = useMemo(() => {
    const placed = layeredLayout(
      nodes.map((n) => ({ id: n.id, width: WIDTH, height: HEIGHT })),
      edges,
    );
    const drawn: Node[] = nodes.map((n) => ({
      id: n.id,
      position: placed.get(n.id) ?? { x: 0, y: 0 },
      data: { label: `${n.label}\n${n.kind}` },
      ariaLabel: `${n.label} (${n.kind})`,
      style: {
        width: WIDTH,
        whiteSpace: "pre-line",
        fontSize: 12,
        borderColor: n.focus ? "var(--mantine-color-indigo-8)" : undefined,
        borderWidth: n.focus ? 2 : 1,
        fontWeight: n.focus ? 700 : 400,
      },
      sourcePosition: "right" as Node["sourcePosition"],
      targetPosition: "left" as Node["targetPosition"],
    }));
    const lines: Edge[] = edges.map((e) => ({
      id: e.id,
      source: e.source,
      target: e.target,
      label: e.label,
      markerEnd: { type: MarkerType.ArrowClosed },
      style: { strokeWidth: 1.5 },
    }));
    return [drawn, lines];
  }, [nodes, edges]);

  return (
    <div style={{ height: 520, border: "1px solid var(--mantine-color-gray-4)", borderRadius: 4 }}>
      <ReactFlow
        nodes={flowNodes}
        edges={flowEdges}
        fitView
        nodesDraggable={false}
        nodesConnectable={false}
        onNodeClick={(_, node) => onOpen(node.id)}
        aria-label="Dependency graph"
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
