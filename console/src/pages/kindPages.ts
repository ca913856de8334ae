// One chunk for the job kinds' pages (loaded by components/LazyKindPages.tsx).
export { ConnectionsPage } from "./Connections";
export { ScriptPage, ScriptsPage } from "./Scripts";
export { SettingsPage } from "./Settings";
