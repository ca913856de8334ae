// Who is logged in, and what their role lets the console show.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Role, User } from "./types";

const LEVEL: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export interface Session {
  user: User;
  role: Role;
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

export function useCan(): (needed: Role) => boolean {
  const session = useSession();
  return (needed) => covers(session.role, needed);
}
