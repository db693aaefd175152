// Stylesheets are imported as text (Bun's `with { type: "text" }`) so that compiled binaries carry them.
declare module "*.css" {
  const text: string;
  export default text;
}
