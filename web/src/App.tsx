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
        </Route>
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
