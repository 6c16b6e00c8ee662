import { useState } from "react";
import { Button, Group, Modal, NumberInput, Select, Stack, Text, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/problem";
import { ProblemAlert } from "../../components/ProblemAlert";
import { count, words } from "../../lib/format";
import { CRITICALITIES } from "./enums";
import type { Filter } from "./AssetsPage";

type Changes = Schemas["AssetChanges"];
type Field = keyof Changes;

/** The fields that make sense to set on many assets at once (a name or description does not). */
const BULK_FIELDS = [
  "environment",
  "location",
  "application_name",
  "business_owner",
  "technical_owner",
  "department",
  "business_unit",
  "criticality",
  "business_criticality",
  "migration_priority",
  "migration_wave",
] as const satisfies readonly Field[];
type BulkField = (typeof BULK_FIELDS)[number];

const NUMBERS: readonly BulkField[] = ["migration_priority", "migration_wave"];
const LEVELS: readonly BulkField[] = ["criticality", "business_criticality"];

function changesOf(field: BulkField, value: string | number): Changes {
  if (value === "") return { [field]: null };
  if (NUMBERS.includes(field)) return { [field]: Number(value) };
  if (LEVELS.includes(field)) {
    const level = CRITICALITIES.find((l) => l === value);
    return { [field]: level ?? null };
  }
  return { [field]: String(value) };
}

/** Sets one field on every asset the current filters match (all of them, not only this page),
 * in one all-or-nothing request; says how many changed. */
export function BulkEdit({ account, engagement, filter, total }: { account: string; engagement: string; filter: Filter; total: number }) {
  const queries = useQueryClient();
  const [open, setOpen] = useState(false);
  const [field, setField] = useState<BulkField>("environment");
  const [value, setValue] = useState<string | number>("");
  const edit = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/client-accounts/{account}/engagements/{engagement}/assets/bulk-update", {
          params: { path: { account, engagement } },
          body: { filter, changes: changesOf(field, value) },
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["assets", account, engagement] }),
  });
  const close = () => {
    setOpen(false);
    edit.reset();
  };
  return (
    <>
      <Button size="xs" variant="light" disabled={total === 0} onClick={() => setOpen(true)}>
        Edit all {count(total)} matching…
      </Button>
      <Modal opened={open} onClose={close} title={`Edit the ${count(total)} assets these filters match`}>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            edit.mutate();
          }}
        >
          <Stack>
            <Select
              label="Field"
              data={BULK_FIELDS.map((f) => ({ value: f, label: words(f) }))}
              value={field}
              allowDeselect={false}
              onChange={(next) => {
                const chosen = BULK_FIELDS.find((f) => f === next);
                if (chosen) {
                  setField(chosen);
                  setValue("");
                }
              }}
            />
            {LEVELS.includes(field) ? (
              <Select
                label="New value"
                placeholder="Empty (clears it)"
                clearable
                data={CRITICALITIES.map((l) => ({ value: l, label: words(l) }))}
                value={value === "" ? null : String(value)}
                onChange={(next) => setValue(next ?? "")}
              />
            ) : NUMBERS.includes(field) ? (
              <NumberInput label="New value" placeholder="Empty (clears it)" value={value} onChange={setValue} allowDecimal={false} />
            ) : (
              <TextInput
                label="New value"
                placeholder="Empty (clears it)"
                value={String(value)}
                onChange={(e) => setValue(e.currentTarget.value)}
              />
            )}
            {edit.error && <ProblemAlert error={edit.error} title="Nothing was changed" />}
            {edit.data && (
              <Text role="status">
                Changed {count(edit.data.changed)} of {count(edit.data.matched)} matching assets (the others already had
                this value).
              </Text>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                {edit.data ? "Close" : "Cancel"}
              </Button>
              {!edit.data && (
                <Button type="submit" loading={edit.isPending}>
                  Change {count(total)} assets
                </Button>
              )}
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}
