import { Anchor, Group, Stack, Text } from "@mantine/core";
import { Link, useParams } from "react-router-dom";
import { useEngagement } from "../../api/queries";
import { PageTitle } from "../../components/Layout";
import { paths } from "../../lib/paths";

/** The engagement's dashboard. */
export function Dashboard() {
  const { account = "", engagement = "" } = useParams();
  const found = useEngagement(account, engagement);
  return (
    <Stack>
      <PageTitle>{found.data?.name ?? engagement}</PageTitle>
      {found.data?.description && <Text>{found.data.description}</Text>}
      <Group>
        <Anchor component={Link} to={paths.assets(account, engagement)}>
          Asset inventory
        </Anchor>
      </Group>
    </Stack>
  );
}
