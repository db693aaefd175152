// `belly <role> [options]`: the one executable of the image and the systemd units, which takes its role as its
// first argument and runs the same entry `bun run` does: producer (producer.ts), consumer (consumer.ts),
// migrate (scripts/migrate.ts), doctor (scripts/doctor.ts). Options after the role go to that entry as they are
// (`belly producer --once`, `belly consumer --migrate`). Each role's code loads only when it is chosen.
import { CONFIG_EXIT_CODE } from "../lib/run/process.ts";

/** The roles `belly` takes, each loading its entry. */
export const ROLES = {
  producer: () => import("../producer.ts"),
  consumer: () => import("../consumer.ts"),
  migrate: () => import("./migrate.ts"),
  doctor: () => import("./doctor.ts"),
} as const;

/** A role {@link ROLES} names. */
export type RoleName = keyof typeof ROLES;

const USAGE = `usage: belly ${Object.keys(ROLES).join("|")} [options]   (for example: belly producer --once)`;

if (import.meta.main) {
  const role = process.argv[2] ?? "";
  if (!Object.hasOwn(ROLES, role)) {
    process.stderr.write(`${role ? `belly: unknown role "${role.slice(0, 40)}"\n` : ""}${USAGE}\n`);
    process.exit(CONFIG_EXIT_CODE);
  }
  // The entries read their own flags from argv, as when `bun run` starts them: the role word goes.
  process.argv.splice(2, 1);
  await ROLES[role as RoleName]();
}
