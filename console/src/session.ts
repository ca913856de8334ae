// Who is logged in, and what their role lets the console show. A user's role in a group is
// their grant for it, else their global role ("none": the group is hidden); the API decides,
// the console only hides what would be refused.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { GrantRole, Role, User } from "./types";

const LEVEL: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export interface Session {
  user: User;
  role: Role;
  groups: Record<string, GrantRole>;
  logout: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("no session");
  return session;
}

export function covers(role: Role, needed: Role): boolean {
  return LEVEL[role] >= LEVEL[needed];
}

/** The effective role in ``group``: its grant, else the global role (null: hidden). */
export function roleIn(session: Session, group: string): Role | null {
  const granted = session.groups[group];
  if (granted === undefined) return session.role;
  return granted === "none" ? null : granted;
}

/** The highest role held anywhere (the global one or a group grant's). */
export function highest(session: Session): Role {
  let best = session.role;
  for (const r of Object.values(session.groups)) {
    if (r !== "none" && LEVEL[r] > LEVEL[best]) best = r;
  }
  return best;
}

/** can(needed) asks the global role; can(needed, group) the role in that group. */
export function useCan(): (needed: Role, group?: string) => boolean {
  const session = useSession();
  return (needed, group) => {
    const role = group === undefined ? session.role : roleIn(session, group);
    return role !== null && covers(role, needed);
  };
}
