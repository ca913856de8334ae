// The load forecast: fires per minute (24 h) or per hour (7 days) as a heat map, computed from
// the triggers; hot spots with their jobs; the H form's spread previewed side by side.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { HeatMap } from "../components/HeatMap";
import { Card, Empty, ErrorBox, Link, Loading, Raw, Time, value } from "../components/ui";
import { useI18n } from "../i18n";
import type { Forecast } from "../types_workflows";

const WINDOWS: [string, number, number][] = [
  ["24h", 24, 60],
  ["7d", 168, 3600],
  ["7dm", 168, 60],
];

export function ForecastPage() {
  const { t } = useI18n();
  const [span, setSpan] = useState("24h");
  const [hot, setHot] = useState("");
  const [data, setData] = useState<Forecast | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [preview, setPreview] = useState(false);
  const [, hours, bucket] = WINDOWS.find(([k]) => k === span) ?? ["24h", 24, 60];

  useEffect(() => {
    let live = true;
    setData(null);
    api
      .get<Forecast>("/api/forecast", { hours, bucket_s: bucket, hot: hot.trim() || undefined })
      .then((fc) => live && (setData(fc), setError(null)))
      .catch((err) => live && setError(err));
    return () => void (live = false);
  }, [hours, bucket, hot]);

  const sug = data?.suggestion ?? null;
  return (
    <div class="page" data-testid="forecast-page">
      <div class="page-head">
        <h1>{t("forecast.title")}</h1>
      </div>
      <p class="muted">{t("forecast.intro")}</p>
      <div class="filters">
        <select aria-label={t("forecast.window")} value={span} onChange={(e) => setSpan(value(e))} data-testid="forecast-window">
          {WINDOWS.map(([k]) => (
            <option value={k} key={k}>
              {t(`forecast.window.${k}` as "forecast.window.24h")}
            </option>
          ))}
        </select>
        <input
          type="number"
          min={1}
          placeholder={t("forecast.hotAuto")}
          aria-label={t("forecast.hot")}
          title={t("forecast.hot")}
          value={hot}
          onInput={(e) => setHot(value(e))}
        />
      </div>
      <ErrorBox error={error} />
      {data === null ? (
        error ? null : <Loading />
      ) : (
        <>
          <p data-testid="forecast-summary">
            {t("forecast.summary", { fires: data.fires.toLocaleString(), jobs: data.jobs.toLocaleString(), peak: data.peak, threshold: data.threshold })}
          </p>
          <div class={preview && sug ? "heat-pair" : undefined}>
            <Card title={t("forecast.now")}>
              <HeatMap buckets={data.buckets} firstBucket={data.first_bucket} bucketS={data.bucket_s} peak={data.peak} threshold={data.threshold} testid="heat-now" />
            </Card>
            {preview && sug ? (
              <Card title={t("forecast.withH", { peak: sug.peak })}>
                <HeatMap buckets={sug.buckets} firstBucket={data.first_bucket} bucketS={data.bucket_s} peak={data.peak} threshold={data.threshold} testid="heat-preview" />
              </Card>
            ) : null}
          </div>
          {sug ? (
            <Card
              title={t("forecast.suggestTitle")}
              actions={
                <button type="button" class="primary" onClick={() => setPreview(!preview)} data-testid="forecast-preview">
                  {preview ? t("forecast.hidePreview") : t("forecast.showPreview")}
                </button>
              }
            >
              <p>{t("forecast.suggest", { n: sug.change_count, before: data.peak, after: sug.peak, hot: data.hot_spots.length, hotAfter: sug.hot_spots })}</p>
              <table class="table compact">
                <thead>
                  <tr>
                    <th>{t("forecast.job")}</th>
                    <th>{t("forecast.cron")}</th>
                    <th>{t("forecast.spread")}</th>
                  </tr>
                </thead>
                <tbody>
                  {sug.changes.slice(0, 20).map((c) => (
                    <tr key={c.job_id}>
                      <td>
                        <Link href={`/jobs/${encodeURIComponent(c.job_id)}`}>
                          <Raw>{c.job_id}</Raw>
                        </Link>
                      </td>
                      <td class="mono">{c.expr}</td>
                      <td class="mono">{c.suggested}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {sug.change_count > 20 ? <p class="muted">{t("forecast.more", { n: sug.change_count - 20 })}</p> : null}
            </Card>
          ) : null}
          <Card title={t("forecast.hotSpots")}>
            {data.hot_spots.length === 0 ? (
              <Empty>{t("forecast.noHot")}</Empty>
            ) : (
              <table class="table compact" data-testid="hot-spots">
                <thead>
                  <tr>
                    <th>{t("forecast.bucket")}</th>
                    <th>{t("forecast.fires")}</th>
                    <th>{t("forecast.onTheHour")}</th>
                    <th>{t("forecast.jobs")}</th>
                  </tr>
                </thead>
                <tbody>
                  {data.hot_spots.slice(0, 30).map((h) => (
                    <tr key={h.start}>
                      <td>
                        <Time iso={h.start} />
                      </td>
                      <td>{h.fires}</td>
                      <td>{Math.round((100 * h.on_the_hour) / Math.max(1, h.fires))}%</td>
                      <td>
                        {h.jobs.slice(0, 6).map((j) => (
                          <>
                            <Link href={`/jobs/${encodeURIComponent(j)}`} key={j}>
                              <Raw>{j}</Raw>
                            </Link>{" "}
                          </>
                        ))}
                        {h.job_count > 6 ? <span class="muted">{t("forecast.more", { n: h.job_count - 6 })}</span> : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Card>
        </>
      )}
    </div>
  );
}
