import { Anchor, Card, Group, Text, Title } from "@mantine/core";
import { Link, useNavigate } from "react-router-dom";
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { count } from "../../lib/format";

export interface Slice {
  label: string;
  value: number;
  /** Opens the inventory filtered to this slice. */
  href?: string;
}

const COLOURS = ["#364fc7", "#0b7285", "#5f3dc4", "#2b8a3e", "#c92a2a", "#e67700", "#862e9c", "#495057", "#1864ab", "#087f5b"];

/** A bar chart of counts (Recharts; a click on a bar opens its slice), with the same numbers as
 * links below it (the chart itself is hidden from screen readers). */
export function CountChart({ title, slices, empty }: { title: string; slices: Slice[]; empty: string }) {
  const navigate = useNavigate();
  const id = `chart-${title.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <Card withBorder component="section" aria-labelledby={id}>
      <Title order={2} size="h4" id={id} mb="sm">
        {title}
      </Title>
      {slices.length === 0 ? (
        <Text c="dimmed" size="sm">
          {empty}
        </Text>
      ) : (
        <>
          <div aria-hidden style={{ width: "100%", height: 220 }}>
            <ResponsiveContainer>
              <BarChart data={slices} margin={{ top: 4, right: 8, bottom: 4, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="label" interval={0} tick={{ fontSize: 11 }} />
                <YAxis allowDecimals={false} tick={{ fontSize: 11 }} width={40} />
                <Tooltip />
                <Bar dataKey="value" name="Assets" onClick={(data: { payload?: Slice }) => data.payload?.href && navigate(data.payload.href)} cursor="pointer">
                  {slices.map((slice, index) => (
                    <Cell key={slice.label} fill={COLOURS[index % COLOURS.length]} />
                  ))}
                </Bar>
              </BarChart>
            </ResponsiveContainer>
          </div>
          {/* The numbers in words, as links into the inventory: what screen readers and keyboards use. */}
          <Group gap="xs" mt="xs">
            {slices.map((slice) =>
              slice.href ? (
                <Anchor key={slice.label} component={Link} to={slice.href} size="sm">
                  {slice.label}: {count(slice.value)}
                </Anchor>
              ) : (
                <Text key={slice.label} size="sm">
                  {slice.label}: {count(slice.value)}
                </Text>
              ),
            )}
          </Group>
        </>
      )}
    </Card>
  );
}
