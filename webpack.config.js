/* eslint-disable no-undef */
// Builds the add-in into dist/:
//   taskpane.html   the one page of the shared runtime; it loads taskpane.js, functions.js and
//                   commands.js (Office.js itself comes from Microsoft's CDN, never bundled)
//   functions.js    the =LMM.* functions (+ CustomFunctions.associate, added by the metadata plugin)
//   functions.json  their metadata, generated from the JSDoc and then given
//                   "allowErrorForDataTypeAny": true, so error cells reach us as missing values
//   lmm-worker.js   the engine, as a Web Worker of its own (the page's bundles hold no engine)
//   manifest.xml    with every https://localhost:3000/ replaced by LMM_PROD_URL in production
//   assets/         the icons
// `npm run build` needs no network and no certificates; only the dev server (`npm start`,
// `npm run dev-server`) asks office-addin-dev-certs for a localhost certificate.
const path = require("path");
const CopyWebpackPlugin = require("copy-webpack-plugin");
const CustomFunctionsMetadataPlugin = require("custom-functions-metadata-plugin");
const HtmlWebpackPlugin = require("html-webpack-plugin");

const DEV_URL = "https://localhost:3000/";
/** Where a production build says the add-in lives when LMM_PROD_URL is not set: an obvious placeholder. */
const PLACEHOLDER_URL = "https://lmm-addin.invalid/";

/** The production base URL: LMM_PROD_URL (https, ending in "/"), or the placeholder. */
function productionUrl(env = process.env) {
  const raw = (env.LMM_PROD_URL || "").trim();
  if (!raw) return PLACEHOLDER_URL;
  let u;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`LMM_PROD_URL is not a URL: ${raw}`);
  }
  if (u.protocol !== "https:") throw new Error(`LMM_PROD_URL must be an https:// URL (Office loads add-ins only over HTTPS): ${raw}`);
  return u.href.endsWith("/") ? u.href : `${u.href}/`;
}

/** The manifest with every development URL replaced: a global regular expression, not just the first match. */
function productionManifest(xml, url) {
  const pattern = new RegExp(DEV_URL.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"), "g");
  return String(xml).replace(pattern, () => url);
}

/** Adds the top-level "allowErrorForDataTypeAny": true to the generated functions.json (the generator cannot). */
class AllowErrorCellsPlugin {
  apply(compiler) {
    const { Compilation, WebpackError, sources } = compiler.webpack;
    compiler.hooks.thisCompilation.tap("AllowErrorCellsPlugin", (compilation) => {
      compilation.hooks.processAssets.tap({ name: "AllowErrorCellsPlugin", stage: Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
        const asset = compilation.getAsset("functions.json");
        if (!asset) {
          if (compilation.errors.length === 0) compilation.errors.push(new WebpackError("functions.json was not generated"));
          return;
        }
        const meta = JSON.parse(asset.source.source().toString());
        const out = { allowErrorForDataTypeAny: true, ...meta };
        out.allowErrorForDataTypeAny = true;
        compilation.updateAsset("functions.json", new sources.RawSource(`${JSON.stringify(out, null, 2)}\n`));
      });
    });
  }
}

/** Warns when a production manifest still points at the placeholder. */
class PlaceholderWarningPlugin {
  constructor(url) {
    this.url = url;
  }
  apply(compiler) {
    compiler.hooks.thisCompilation.tap("PlaceholderWarningPlugin", (compilation) => {
      if (this.url === PLACEHOLDER_URL) {
        const w = new compiler.webpack.WebpackError(
          `Expected for local use: nothing failed and dist/ is complete. \`npm start\` and \`npm run dev-server\` use the development manifest (localhost) and are not affected. Only to deploy dist/ to a web server, build with LMM_PROD_URL=https://your.host/path/ so that dist/manifest.xml points there instead of the placeholder ${PLACEHOLDER_URL}`,
        );
        w.file = "manifest.xml (production build without LMM_PROD_URL)";
        compilation.warnings.push(w);
      }
    });
  }
}

module.exports = async (env = {}, options = {}) => {
  const dev = options.mode === "development";
  const prodUrl = dev ? DEV_URL : productionUrl();
  const config = {
    devtool: dev ? "source-map" : false,
    entry: {
      taskpane: "./src/taskpane/taskpane.ts",
      functions: "./src/functions/functions.ts",
      commands: "./src/commands/commands.ts",
      "lmm-worker": "./src/worker/lmm.worker.ts",
    },
    output: { path: path.resolve(__dirname, "dist"), filename: "[name].js", clean: true },
    resolve: { extensions: [".ts", ".js"] },
    module: {
      rules: [{ test: /\.ts$/, exclude: /node_modules/, use: { loader: "ts-loader", options: { configFile: "tsconfig.webpack.json", transpileOnly: true } } }],
    },
    performance: { hints: false },
    plugins: [
      new CustomFunctionsMetadataPlugin({ output: "functions.json", input: "./src/functions/functions.ts" }),
      new AllowErrorCellsPlugin(),
      new HtmlWebpackPlugin({ filename: "taskpane.html", template: "./src/taskpane/taskpane.html", chunks: ["taskpane", "functions", "commands"] }),
      new CopyWebpackPlugin({
        patterns: [
          { from: "assets/icon-*.png", to: "assets/[name][ext]" },
          { from: "manifest.xml", to: "[name][ext]", transform: (content) => (dev ? content : productionManifest(content, prodUrl)) },
        ],
      }),
      ...(dev ? [] : [new PlaceholderWarningPlugin(prodUrl)]),
    ],
  };
  if (env.WEBPACK_SERVE) {
    // Only the dev server needs HTTPS certificates (office-addin-dev-certs creates and trusts them).
    const devCerts = require("office-addin-dev-certs");
    const o = await devCerts.getHttpsServerOptions();
    config.devServer = {
      static: false,
      headers: { "Access-Control-Allow-Origin": "*" },
      server: { type: "https", options: { ca: o.ca, key: o.key, cert: o.cert } },
      port: 3000,
    };
  }
  return config;
};

module.exports.DEV_URL = DEV_URL;
module.exports.PLACEHOLDER_URL = PLACEHOLDER_URL;
module.exports.productionUrl = productionUrl;
module.exports.productionManifest = productionManifest;
