import { Route, Routes } from "react-router-dom";
import { Layout } from "./components/Layout";
import { NotFound } from "./components/States";
import { RequireSession } from "./session";
import { AccountHome, EngagementScope, Home } from "./pages/Home";
import { SignIn } from "./pages/SignIn";
import { Dashboard } from "./features/dashboard/Dashboard";
import { AdminPage } from "./features/admin/AdminPage";
import { AssetDetail } from "./features/assets/AssetDetail";
import { AssetsPage } from "./features/assets/AssetsPage";
import { FlowPage } from "./features/flows/FlowPage";
import { FlowsPage } from "./features/flows/FlowsPage";
import { GraphPage } from "./features/graph/GraphPage";
import { ImportPage } from "./features/imports/ImportPage";
import { MappingsPage } from "./features/mappings/MappingsPage";

/** Every page has its own URL; filters, sort and page live in the query string. */
export function App() {
  return (
    <Routes>
      <Route path="/sign-in" element={<SignIn />} />
      <Route
        element={
          <RequireSession>
            <Layout />
          </RequireSession>
        }
      >
        <Route path="/" element={<Home />} />
        <Route path="/a/:account" element={<AccountHome />} />
        <Route path="/a/:account/admin" element={<AdminPage />} />
        <Route path="/a/:account/e/:engagement" element={<EngagementScope />}>
          <Route index element={<Dashboard />} />
          <Route path="assets" element={<AssetsPage />} />
          <Route path="assets/:asset" element={<AssetDetail />} />
          <Route path="import" element={<ImportPage />} />
          <Route path="flows" element={<FlowsPage />} />
          <Route path="flows/:flow" element={<FlowPage />} />
          <Route path="flows/:flow/mappings" element={<MappingsPage />} />
          <Route path="dependencies" element={<GraphPage />} />
        </Route>
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
