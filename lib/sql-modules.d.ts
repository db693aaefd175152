// SQL files are imported as text (Bun's `with { type: "text" }`) so that compiled binaries carry them.
declare module "*.sql" {
  const text: string;
  export default text;
}
