import "@mantine/core/styles.css";
import "@mantine/dropzone/styles.css";
import "@mantine/notifications/styles.css";
import "@xyflow/react/dist/style.css";
import "./index.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { MantineProvider, Modal, createTheme, darken, type CSSVariablesResolver } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { BrowserRouter } from "react-router-dom";
import { App } from "./App";
import { ApiProblem } from "./api/problem";

// System fonts only: the app must work on a machine without internet (no web fonts).
const theme = createTheme({
  primaryColor: "indigo",
  // Shade 8: white text on it passes WCAG AA contrast (4.5:1), which shade 6 does not.
  primaryShade: 8,
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif",
  // Every dialog's × button has a name for screen readers.
  components: { Modal: Modal.extend({ defaultProps: { closeButtonProps: { "aria-label": "Close the dialog" } } }) },
});

// WCAG AA contrast (4.5:1) for dimmed text and for the text of light and subtle variants (badges,
// subtle buttons), which Mantine draws in shade 6 by default.
const contrast: CSSVariablesResolver = (resolved) => ({
  variables: {},
  light: {
    "--mantine-color-dimmed": resolved.colors.gray[7],
    ...Object.fromEntries(
      // Shade 9 darkened by a third: green, yellow and orange at shade 9 are still under 4.5:1.
      Object.entries(resolved.colors).map(([name, shades]) => [`--mantine-color-${name}-light-color`, darken(shades[9], 0.35)]),
    ),
  },
  dark: {},
});

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      // A 401/403/404 will not change by asking again.
      retry: (count, error) => !(error instanceof ApiProblem && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <MantineProvider theme={theme} cssVariablesResolver={contrast}>
        <Notifications />
        <QueryClientProvider client={queries}>
          <BrowserRouter>
            <App />
          </BrowserRouter>
        </QueryClientProvider>
      </MantineProvider>
    </StrictMode>,
  );
}
