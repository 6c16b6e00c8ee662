/** The app's URLs, in one place: /a/{account}/e/{engagement}/… (slugs, as the API accepts them). */
export const paths = {
  account: (account: string) => `/a/${account}`,
  admin: (account: string) => `/a/${account}/admin`,
  engagement: (account: string, engagement: string) => `/a/${account}/e/${engagement}`,
  import: (account: string, engagement: string) => `/a/${account}/e/${engagement}/import`,
  flows: (account: string, engagement: string) => `/a/${account}/e/${engagement}/flows`,
  flow: (account: string, engagement: string, flow: string) => `/a/${account}/e/${engagement}/flows/${flow}`,
  mappings: (account: string, engagement: string, flow: string) =>
    `/a/${account}/e/${engagement}/flows/${flow}/mappings`,
  assets: (account: string, engagement: string) => `/a/${account}/e/${engagement}/assets`,
  asset: (account: string, engagement: string, asset: string) => `/a/${account}/e/${engagement}/assets/${asset}`,
  graph: (account: string, engagement: string) => `/a/${account}/e/${engagement}/dependencies`,
};
