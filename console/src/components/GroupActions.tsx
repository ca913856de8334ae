// Pause, resume or run every job of a group, each confirmed in a dialog that first asks the
// API what it touches (dry_run): "This touches 12 jobs of the group ... (3 change state)".
import { useState } from "preact/hooks";
import { api, enc } from "../api";
import { useI18n } from "../i18n";
import type { GroupActionOut } from "../types";
import { Confirm } from "./ui";

type Action = "pause" | "resume" | "run";

export function GroupActions(props: { group: string; onDone: (message: string) => void }) {
  const { t } = useI18n();
  const [action, setAction] = useState<Action | null>(null);
  const [preview, setPreview] = useState<GroupActionOut | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const path = (a: Action) => `/api/groups/${enc(props.group)}/${a}`;

  const ask = async (a: Action) => {
    setAction(a);
    setPreview(null);
    setError(null);
    try {
      setPreview(await api.post<GroupActionOut>(`${path(a)}?dry_run=true`));
    } catch (err) {
      setError(err);
    }
  };
  const confirm = async () => {
    if (!action) return;
    setBusy(true);
    try {
      const out = await api.post<GroupActionOut>(path(action));
      const vars = { group: props.group, n: action === "run" ? out.run_ids.length : out.jobs };
      const done = action === "pause" ? "jobs.groupPaused" : action === "resume" ? "jobs.groupResumed" : "groups.ran";
      setAction(null);
      props.onDone(t(done, vars));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const label = (a: Action) => t(a === "pause" ? "groups.pauseAll" : a === "resume" ? "groups.resumeAll" : "groups.runAll");

  return (
    <>
      {(["pause", "resume", "run"] as Action[]).map((a) => (
        <button type="button" class="small" onClick={() => void ask(a)} data-action={`${a}-group`} key={a}>
          {label(a)}
        </button>
      ))}
      {action ? (
        <Confirm
          title={label(action)}
          message={
            <>
              <p>{t(`groups.confirm.${action}`, { group: props.group })}</p>
              <p class="strong" data-testid="group-touches">
                {preview ? t("groups.touches", { group: props.group, n: preview.jobs, changes: preview.changes }) : t("groups.counting")}
              </p>
            </>
          }
          confirmLabel={label(action)}
          danger={action === "pause"}
          busy={busy || preview === null}
          error={error}
          onConfirm={() => void confirm()}
          onCancel={() => {
            setAction(null);
            setError(null);
          }}
        />
      ) : null}
    </>
  );
}
