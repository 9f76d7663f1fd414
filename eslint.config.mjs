// Lint as yo-office add-ins do (eslint-plugin-office-addins, the rules of office-addin-lint),
// with eslint's and typescript-eslint's recommended rules. Not office-addin-lint itself: it adds
// Prettier's formatting as lint errors (a style this code base does not follow) and sends usage
// data; here lint reports real problems, not layout.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";
import officeAddins from "eslint-plugin-office-addins";

/** The plugin's own rules at the levels of its "recommended" config (without its Prettier rule). */
const officeRules = Object.fromEntries(
  officeAddins.configs.recommended.flatMap((c) => Object.entries(c.rules ?? {})).filter(([name]) => name.startsWith("office-addins/")),
);

export default tseslint.config(
  // Stale disable comments (rules renamed since) are noise, not problems.
  { linterOptions: { reportUnusedDisableDirectives: "off" } },
  { ignores: ["build/", "dist/", "node_modules/", "bench/out/", "test/out/", ".scratch/", ".scratch-prod/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { "office-addins": officeAddins },
    rules: {
      ...officeRules,
      // Excel's custom-function arguments are untyped ranges (any[][]), as the generated metadata needs.
      "@typescript-eslint/no-explicit-any": "off",
      // Reported, but not failing the build: an unused name is untidy, not wrong, and several
      // people edit the tree at once.
      "@typescript-eslint/no-unused-vars": ["warn", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      // Control characters in a regular expression are used on purpose here (\u0000 sentinels).
      "no-control-regex": "off",
      // The code base compiles to CommonJS and requires a few modules on purpose (jstat has no
      // types; tests load webpack.config.js and the fake Office.js at run time).
      "@typescript-eslint/no-require-imports": "off",
      // `if (c) (a(), b())` is this code base's way to write two steps; TypeScript itself rejects
      // a comma operand without side effects (TS2695), the bug this rule would catch there.
      "@typescript-eslint/no-unused-expressions": "off",
      // Classes of the fake Office.js keep `this` for their inner callbacks: a style choice.
      "@typescript-eslint/no-this-alias": "off",
    },
  },
  { files: ["**/*.js", "**/*.cjs"], languageOptions: { sourceType: "commonjs", globals: { ...globals.node } }, rules: { "@typescript-eslint/no-require-imports": "off" } },
  // The plugin's sync rules recognise only a request context named `context` (`context.sync()`);
  // this file names it `ctx`, so every read there looks unsynced to them. Each read in it follows
  // an `await ctx.sync()`; renaming ctx to context would let the rules check the file.
  { files: ["src/taskpane/excel-io.ts"], rules: { "office-addins/call-sync-before-read": "off", "office-addins/call-sync-after-load": "off" } },
  { files: ["test/pane/fake-office.js"], languageOptions: { globals: { ...globals.browser } } },
);
