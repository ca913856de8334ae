// Job actions shared by the jobs list and the job page: run now (with the job's declared
// parameters when it has any; then follow the run), pause/resume, edit, delete with
// confirmation. A job a file or code defines is changed there: no edit, no delete.
import { useState } from "preact/hooks";
import { api, enc } from "./api";
import { RunDialog } from "./components/RunDialog";
import { Confirm, errorText, Raw } from "./components/ui";
import { definedElsewhere } from "./describe";
import { useI18n } from "./i18n";
import { navigate } from "./router";
import { useCan } from "./session";
import type { Job } from "./types";

interface Props {
  job: Job;
  onChanged: (job: Job | null) => void;
  onError: (message: string | null) => void;
  compact?: boolean;
}

export function JobActions({ job, onChanged, onError, compact }: Props) {
  const { t, lang } = useI18n();
  const can = useCan();
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const [asking, setAsking] = useState(false);
  const hasParams = (job.parameters ?? []).length > 0;
  const elsewhere = definedElsewhere(job);

  const act = async (what: () => Promise<void>) => {
    setBusy(true);
    onError(null);
    try {
      await what();
    } catch (err) {
      onError(`${job.id}: ${errorText(t, err, lang)}`);
    } finally {
      setBusy(false);
    }
  };

  const runNow = () =>
    hasParams
      ? setAsking(true)
      : act(async () => {
          const queued = await api.post<{ run_id: number }>(`/api/jobs/${enc(job.id)}/run`);
          navigate(`/runs/${queued.run_id}`);
        });
  const toggle = () =>
    act(async () => {
      onChanged(await api.post<Job>(`/api/jobs/${enc(job.id)}/${job.paused ? "resume" : "pause"}`));
    });
  const remove = async () => {
    setBusy(true);
    try {
      await api.del(`/api/jobs/${enc(job.id)}`);
      setDeleting(false);
      onChanged(null);
    } catch (err) {
      setDeleteError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class={compact ? "actions compact" : "actions"}>
      {can("operator", job.group) ? (
        <>
          <button type="button" class="small" disabled={busy} onClick={runNow} data-action="run">
            {hasParams ? t("jobs.runWithParams") : t("jobs.runNow")}
          </button>
          <button type="button" class="small" disabled={busy} onClick={toggle} data-action={job.paused ? "resume" : "pause"}>
            {job.paused ? t("jobs.resume") : t("jobs.pause")}
          </button>
        </>
      ) : null}
      {can("admin", job.group) ? (
        <>
          <a
            class="button small"
            href={`/jobs/${enc(job.id)}/edit`}
            onClick={(e) => {
              e.preventDefault();
              navigate(`/jobs/${enc(job.id)}/edit`);
            }}
            data-action="edit"
          >
            {elsewhere ? t("jobs.viewDefinition") : t("jobs.edit")}
          </a>
          {elsewhere ? null : (
            <button type="button" class="small danger-outline" disabled={busy} onClick={() => setDeleting(true)} data-action="delete">
              {t("jobs.delete")}
            </button>
          )}
        </>
      ) : null}
      {asking ? <RunDialog job={job} onClose={() => setAsking(false)} onQueued={(id) => navigate(`/runs/${id}`)} /> : null}
      {deleting ? (
        <Confirm
          title={t("jobs.deleteTitle")}
          message={
            <p>
              {t("jobs.deleteConfirm")} <Raw><strong>{job.name}</strong> <code>{job.id}</code></Raw>
            </p>
          }
          confirmLabel={t("jobs.delete")}
          danger
          busy={busy}
          error={deleteError}
          onConfirm={remove}
          onCancel={() => {
            setDeleting(false);
            setDeleteError(null);
          }}
        />
      ) : null}
    </div>
  );
}
